/**
 * Builds the `ScenarioContext` a scenario's `build` receives, and the small
 * certificate helpers scenarios share (self-signed DANE-EE leaves, DANE-TA
 * chains from the lab's private CA).
 *
 * Contract: addresses must have been allocated for every declared server
 * (and `attacker` when the scenario has one); asking for another label is a
 * bug (throws).
 */
import type { IssuedCert, LeafOptions } from './certs.ts';
import { chainOf, createSelfSigned, issueLeaf } from './certs.ts';
import type { LabPki } from './lab-pki.ts';
import { tlsaData, tlsaRecord } from './lab-pki.ts';
import type { Scenario, ScenarioContext } from './scenario-types.ts';
import { scenarioDomain } from './scenario-types.ts';

export const ATTACKER_LABEL = 'attacker';

export function createScenarioContext(s: Scenario, port: number, pki: LabPki, addresses: ReadonlyMap<string, string>, sts: { host: string; port: number }): ScenarioContext {
  const domain = scenarioDomain(s);
  const address = (label: string): string => {
    const a = addresses.get(label);
    if (a === undefined) throw new Error(`scenario ${s.name}: no address allocated for ${label}`);
    return a;
  };
  const connectAddress = (label: string): string =>
    s.attacker && s.attacker.target === label ? address(ATTACKER_LABEL) : address(label);
  const tlsaOwner = (name: string): string => `_${port}._tcp.${name}`;
  return {
    domain, port, pki, address, connectAddress, tlsaOwner, sts,
    txt: (name, text) => ({ name, type: 'TXT', data: text }),
    host: (label) => (label === '@' ? domain : `${label}.${domain}`),
    a: (name, label) => ({ name, type: 'A', data: connectAddress(label) }),
    mx: (preference, exchange) => ({ name: domain, type: 'MX', data: { preference, exchange } }),
    tlsa: (name, usage, selector, matchingType, cert) =>
      tlsaRecord(port, name, usage, selector, matchingType, tlsaData(cert, selector, matchingType)),
    tlsaRaw: (name, usage, selector, matchingType, data) => tlsaRecord(port, name, usage, selector, matchingType, data),
  };
}

/** A self-signed server certificate for `names` (the usual DANE-EE `3 1 1` deployment); chain of one. */
export async function selfSignedChain(names: string[], opts: Partial<LeafOptions> = {}): Promise<IssuedCert[]> {
  return [await createSelfSigned({ ...opts, dnsNames: names })];
}

/** A leaf from the lab's private DANE CA: [leaf, intermediate] or, with `withRoot`, [leaf, intermediate, root]. */
export async function daneCaChain(pki: LabPki, names: string[], opts: Partial<LeafOptions> & { withRoot?: boolean } = {}): Promise<IssuedCert[]> {
  const leaf = await issueLeaf(pki.daneIntermediate, { ...opts, dnsNames: names });
  return chainOf(leaf, opts.withRoot ?? false);
}

/** A leaf from the "public" CA the relay's PKIX store trusts: [leaf, intermediate]. */
export async function publicCaChain(pki: LabPki, names: string[]): Promise<IssuedCert[]> {
  return chainOf(await issueLeaf(pki.publicIntermediate, { dnsNames: names }));
}
