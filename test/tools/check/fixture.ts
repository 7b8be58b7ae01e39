/**
 * A loopback world for `dane-relay check` tests: one signed lab zone `test`
 * served by the lab resolver, lab MX servers (src/lab/mx-server.ts) on
 * 127.0.0.2… sharing one port, certificates from src/lab/certs.ts.
 *
 * Domains (MX host `mx.D`, except where said):
 * - good.test        3 1 1 of the served leaf            → pass, Verified
 * - bad.test         3 1 1 with one hex digit changed    → fail, Server certificate not verified
 * - strip.test       correct 3 1 1, server without TLS   → fail, TLS is required, but was not offered
 * - bogus-tlsa.test  TLSA answers SERVFAIL               → fail, TLSA lookup error
 * - bogus-mx.test    MX answers SERVFAIL                 → fail, 4.4.3
 * - notlsa.test      no TLSA at all (secure denial)      → pass, dane not applicable
 * - nullmx.test      `MX 0 .`                            → fail, 5.1.10
 * - degraded.test    MX 10 → good server, MX 20 → the mismatching one → degraded
 * - ta.test          2 1 1 of the issuing CA, leaf for mx.ta.test → pass, matched at depth 1
 * - mitm.test        correct 3 1 1, but an attacker proxy (src/lab/attacker-proxy.ts,
 *                    `strip-starttls`) in front of the good server → fail, TLS not offered
 * - hsfail.test      correct 3 1 1, the TLS handshake fails → fail, Cannot start TLS: handshake failure
 * - hsfail-may.test  same server, no TLSA: the relay falls back to plaintext at `may` → pass with notes
 * Everything started is stopped by `close()`.
 */
import { startLabResolver, type LabRecord, type LabResolver } from '../../../src/lab/lab-resolver.ts';
import { startMxServer, type MxServer } from '../../../src/lab/mx-server.ts';
import { startAttackerProxy, type AttackerProxy } from '../../../src/lab/attacker-proxy.ts';
import { createRootCa, createIntermediateCa, issueLeaf, createSelfSigned, type IssuedCert } from '../../../src/lab/certs.ts';
import { findSharedPort } from '../../../src/lab/shared-port.ts';
import { tlsaDataFor } from '../../../src/core/tlsa.ts';

export interface CheckLab {
  port: number;
  resolver: LabResolver;
  servers: Record<'good' | 'bad' | 'strip' | 'notlsa' | 'ta' | 'hsfail', MxServer>;
  proxy: AttackerProxy;
  /** The record published for good.test, as `3 1 1 hex`. */
  goodRecord: string;
  /** PEM of the lab root CA (issues ta.test's chain), for --ca-file. */
  rootPem: string;
  /** Common argv: resolver and port. */
  args: string[];
  close(): Promise<void>;
}

const HOSTS = { good: '127.0.0.2', bad: '127.0.0.3', strip: '127.0.0.4', notlsa: '127.0.0.5', ta: '127.0.0.6', bogus: '127.0.0.7', mitm: '127.0.0.8', hsfail: '127.0.0.9' } as const;

/** One hex digit changed: a record that matches nothing. */
export function flipLastHex(hex: string): string {
  return hex.slice(0, -1) + ((parseInt(hex.slice(-1), 16) + 1) % 16).toString(16);
}

const rec = (name: string, type: LabRecord['type'], data: unknown): LabRecord => ({ name, type, data });
const mx = (domain: string, pref: number, host: string): LabRecord => rec(domain, 'MX', { preference: pref, exchange: host });
const tlsa = (port: number, host: string, usage: number, data: Uint8Array): LabRecord =>
  rec(`_${port}._tcp.${host}`, 'TLSA', { usage, selector: 1, matchingType: 1, certificate: Buffer.from(data) });

function zoneRecords(port: number, leaf: IssuedCert, ca: IssuedCert): LabRecord[] {
  const spki = tlsaDataFor(leaf.der, 1, 1);
  const wrong = Buffer.from(flipLastHex(Buffer.from(spki).toString('hex')), 'hex');
  const simple = (d: string, ip: string): LabRecord[] => [mx(d, 10, `mx.${d}`), rec(`mx.${d}`, 'A', ip)];
  return [
    rec('test', 'NS', 'ns.test'),
    ...simple('good.test', HOSTS.good), tlsa(port, 'mx.good.test', 3, spki),
    ...simple('bad.test', HOSTS.bad), tlsa(port, 'mx.bad.test', 3, wrong),
    ...simple('strip.test', HOSTS.strip), tlsa(port, 'mx.strip.test', 3, spki),
    ...simple('bogus-tlsa.test', HOSTS.bogus), tlsa(port, 'mx.bogus-tlsa.test', 3, spki),
    ...simple('bogus-mx.test', HOSTS.bogus),
    ...simple('notlsa.test', HOSTS.notlsa),
    rec('nullmx.test', 'MX', { preference: 0, exchange: '.' }),
    mx('degraded.test', 10, 'mx.good.test'), mx('degraded.test', 20, 'mx.bad.test'),
    ...simple('ta.test', HOSTS.ta), tlsa(port, 'mx.ta.test', 2, tlsaDataFor(ca.der, 1, 1)),
    ...simple('mitm.test', HOSTS.mitm), tlsa(port, 'mx.mitm.test', 3, spki),
    ...simple('hsfail.test', HOSTS.hsfail), tlsa(port, 'mx.hsfail.test', 3, spki),
    ...simple('hsfail-may.test', HOSTS.hsfail),
  ];
}

export async function startCheckLab(): Promise<CheckLab> {
  const root = await createRootCa('Check Lab Root');
  const ca = await createIntermediateCa(root, 'Check Lab Issuing CA');
  const leaf = await createSelfSigned({ dnsNames: ['mx.good.test'] });
  const taLeaf = await issueLeaf(ca, { dnsNames: ['mx.ta.test'] });
  const port = await findSharedPort(Object.values(HOSTS));
  const resolver = await startLabResolver({ zones: [] });
  const started: Array<MxServer | AttackerProxy> = [];
  const start = async (host: string, mode: 'starttls' | 'plaintext-only' | 'handshake-fail', chain?: IssuedCert[]): Promise<MxServer> => {
    const s = await startMxServer({ host, port, mode, ...(chain ? { chain } : {}) });
    started.push(s);
    return s;
  };
  try {
    const servers = {
      good: await start(HOSTS.good, 'starttls', [leaf]),
      bad: await start(HOSTS.bad, 'starttls', [leaf]),
      strip: await start(HOSTS.strip, 'plaintext-only'),
      notlsa: await start(HOSTS.notlsa, 'starttls', [leaf]),
      ta: await start(HOSTS.ta, 'starttls', [taLeaf, ca]),
      hsfail: await start(HOSTS.hsfail, 'handshake-fail', [leaf]),
    };
    const proxy = await startAttackerProxy({ host: HOSTS.mitm, port, mode: 'strip-starttls', upstream: { host: HOSTS.good, port } });
    started.push(proxy);
    const zone = { origin: 'test', signed: true, records: zoneRecords(port, leaf, ca), servfail: [
      { name: `_${port}._tcp.mx.bogus-tlsa.test`, type: 'TLSA' }, { name: 'bogus-mx.test', type: 'MX' },
    ] };
    resolver.setZones([zone]);
    const goodRecord = `3 1 1 ${Buffer.from(tlsaDataFor(leaf.der, 1, 1)).toString('hex')}`;
    const close = async (): Promise<void> => { await Promise.all(started.map((s) => s.close())); await resolver.close(); };
    return { port, resolver, servers, proxy, goodRecord, rootPem: root.certPem, args: ['--resolver', resolver.address, '--port', String(port), '--timeout', '10'], close };
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    await resolver.close();
    throw err;
  }
}
