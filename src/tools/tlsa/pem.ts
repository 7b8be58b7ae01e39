/**
 * Certificates for `dane-relay tlsa`: read a PEM bundle (leaf first), and
 * describe a certificate for people (subject, expiry, names).
 *
 * Contract: `parsePemChain` returns the DER of every CERTIFICATE block in
 * file order, or a `{ error }` when there is none or one does not parse; it
 * never throws. Other PEM blocks (keys) are ignored, so a combined
 * key+chain file works.
 */
import { X509Certificate } from 'node:crypto';
import { certificateNames, nameLine } from '../../core/reference-names.ts';

export interface CertInfo {
  der: Uint8Array;
  x509: X509Certificate;
  /** One-line subject, e.g. `CN=mx.example.com`; `(empty name)` when the certificate has none. */
  subject: string;
  notAfter: Date;
  /** DNS subjectAltNames (the CN only when there are none), as the relay's name check sees them (C24). */
  names: string[];
}

const BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

export function parsePemChain(text: string): { chain: CertInfo[] } | { error: string } {
  const chain: CertInfo[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const der = Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64');
    try {
      chain.push(certInfo(der));
    } catch (e) {
      return { error: `certificate ${chain.length + 1} does not parse: ${(e as Error).message}` };
    }
  }
  return chain.length > 0 ? { chain } : { error: 'no PEM CERTIFICATE block found' };
}

/** Throws when `der` is not a certificate (callers with untrusted input catch). */
export function certInfo(der: Uint8Array): CertInfo {
  const x509 = new X509Certificate(der);
  return {
    der: new Uint8Array(der), x509,
    subject: nameLine(x509.subject),
    notAfter: new Date(x509.validTo),
    names: certificateNames(x509),
  };
}

/** True when `issuer` signed `child` (names and signature). */
export function isIssuerOf(child: CertInfo, issuer: CertInfo): boolean {
  try {
    return child.x509.checkIssued(issuer.x509) && child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

export const DAY_MS = 86_400_000;
