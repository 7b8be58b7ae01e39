/**
 * The lab's certificate authorities and TLSA record helpers, built at lab
 * start from src/lab/certs.ts (nothing is fetched or committed).
 *
 * Two hierarchies:
 * - the "public" CA (root + intermediate): the relay's PKIX store trusts its
 *   root (`tls.ca_file`), as a real relay trusts the web PKI. The attacker's
 *   impostor certificates come from it, so they are PKIX-valid for the name
 *   and only DANE can catch them (RFC 7672 §1.3);
 * - the "DANE" CA (root + intermediate): a private CA nobody trusts, used for
 *   DANE-TA(2) deployments (C23–C25).
 *
 * TLSA association data follows RFC 6698 §2.1: selector 0 = full certificate
 * DER, 1 = SubjectPublicKeyInfo DER; matching type 0 = exact, 1 = SHA2-256,
 * 2 = SHA2-512 (C20). Failures are bugs (exceptions).
 */
import { createHash } from 'node:crypto';
import type { IssuedCert } from './certs.ts';
import { createIntermediateCa, createRootCa, issueLeaf } from './certs.ts';
import type { LabRecord } from './lab-resolver.ts';

export interface LabPki {
  publicRoot: IssuedCert;
  publicIntermediate: IssuedCert;
  daneRoot: IssuedCert;
  daneIntermediate: IssuedCert;
}

export async function createLabPki(): Promise<LabPki> {
  const publicRoot = await createRootCa('Lab Public Root CA');
  const publicIntermediate = await createIntermediateCa(publicRoot, 'Lab Public Issuing CA');
  const daneRoot = await createRootCa('Lab DANE Root CA');
  const daneIntermediate = await createIntermediateCa(daneRoot, 'Lab DANE Issuing CA');
  return { publicRoot, publicIntermediate, daneRoot, daneIntermediate };
}

/** The impostor an on-path attacker holds for `name`: leaf + public intermediate (PKIX-valid). */
export async function impostorChain(pki: LabPki, name: string): Promise<IssuedCert[]> {
  const leaf = await issueLeaf(pki.publicIntermediate, { dnsNames: [name] });
  return [leaf, pki.publicIntermediate];
}

export type Selector = 0 | 1;
export type MatchingType = 0 | 1 | 2;

/** RFC 6698 §2.1 certificate association data for `cert`. */
export function tlsaData(cert: IssuedCert, selector: Selector, matchingType: MatchingType): Buffer {
  const input = selector === 0 ? cert.der : cert.x509.publicKey.export({ type: 'spki', format: 'der' });
  if (matchingType === 0) return Buffer.from(input);
  return createHash(matchingType === 1 ? 'sha256' : 'sha512').update(input).digest();
}

/** A copy of `data` with exactly one hex digit changed (the last nibble, +1 mod 16). */
export function flipOneHexDigit(data: Buffer): Buffer {
  const out = Buffer.from(data);
  const i = out.length - 1;
  const b = out[i] ?? 0;
  out[i] = (b & 0xf0) | (((b & 0x0f) + 1) & 0x0f);
  return out;
}

/** A TLSA lab record at `_PORT._tcp.HOST` (C12: the port is the one the relay connects to, the lab's shared port). */
export function tlsaRecord(port: number, host: string, usage: number, selector: number, matchingType: number, data: Buffer): LabRecord {
  return { name: `_${port}._tcp.${host}`, type: 'TLSA', data: { usage, selector, matchingType, certificate: data } };
}

/** PEM the relay's PKIX store is pointed at (`tls.ca_file`). */
export function pkixTrustPem(pki: LabPki): string {
  return pki.publicRoot.certPem;
}
