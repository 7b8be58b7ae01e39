/**
 * TLSA records: names, usability and digest agility (RFC 6698 §2.1, RFC 7218,
 * RFC 7671 §9, RFC 7672 §3.1; checklist C13, C20, C21, C26, C27).
 *
 * Contract:
 * - `usableTlsa` keeps only records that are usable for SMTP (C13):
 *   usage DANE-TA(2) or DANE-EE(3) (PKIX-TA(0)/PKIX-EE(1) are unusable for
 *   SMTP, C21), selector Cert(0) or SPKI(1), matching type Full(0),
 *   SHA2-256(1) or SHA2-512(2), data of the right length (32 / 64 bytes for
 *   the digests, non-empty for Full). Unknown values are unusable, never
 *   compared "exactly" by default (C27). A DANE-TA(2) record with Full(0)
 *   data must parse as a certificate (selector 0) or a public key (selector
 *   1), as OpenSSL's `SSL_dane_tlsa_add` requires; otherwise it is unusable.
 *   Duplicates are removed.
 * - Digest agility (C26, RFC 7671 §9) is applied AFTER unusable records are
 *   discarded (§9: "first discarding any unusable or malformed records"): for
 *   each usage and selector only the strongest digest present counts
 *   (SHA2-512 > SHA2-256). Full(0) is not a digest and is always kept — this
 *   is what OpenSSL's DANE code does (`dane_match`: "ignore all mtypes with
 *   lower ordinals other than Full").
 * - `tlsaDataFor` computes the association data of a certificate; it throws
 *   only when the DER does not parse (a bug or a malformed peer certificate
 *   the caller must handle). `certMatches` compares a parsed certificate
 *   with one record's data (false, never a throw, when its key does not
 *   export); the SubjectPublicKeyInfo of a parsed certificate is exported
 *   once per certificate object however many records are compared (a
 *   memo on immutable objects, no state a decision depends on).
 *
 * Pure: node:crypto only.
 */
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import type { UsableTlsa } from './effective-policy.ts';

type TlsaFields = { usage: number; selector: number; matchingType: number };
type TlsaWithData = TlsaFields & { data: Uint8Array };

/** RFC 7218 acronyms (C20). */
export const USAGE_NAMES: Readonly<Record<number, string>> = { 0: 'PKIX-TA', 1: 'PKIX-EE', 2: 'DANE-TA', 3: 'DANE-EE', 255: 'PrivCert' };
export const SELECTOR_NAMES: Readonly<Record<number, string>> = { 0: 'Cert', 1: 'SPKI', 255: 'PrivSel' };
export const MATCHING_NAMES: Readonly<Record<number, string>> = { 0: 'Full', 1: 'SHA2-256', 2: 'SHA2-512', 255: 'PrivMatch' };

const DIGEST_LENGTH: Readonly<Record<number, number>> = { 1: 32, 2: 64 };

function named(table: Readonly<Record<number, string>>, value: number): string {
  return `${table[value] ?? 'unassigned'}(${value})`;
}

/** `DANE-EE(3) SPKI(1) SHA2-256(1)`; unknown values read `unassigned(4)`. */
export function describeTlsa(r: TlsaFields): string {
  return `${named(USAGE_NAMES, r.usage)} ${named(SELECTOR_NAMES, r.selector)} ${named(MATCHING_NAMES, r.matchingType)}`;
}

export function toHex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
}

/** Presentation form `3 1 1 ab12…` with the full lower-case hex data. */
export function formatTlsa(r: TlsaWithData): string {
  return `${r.usage} ${r.selector} ${r.matchingType} ${toHex(r.data)}`;
}

const spkiMemo = new WeakMap<X509Certificate, Buffer>();

/** DER SubjectPublicKeyInfo of a certificate (exported once per certificate object). */
export function spkiOf(cert: X509Certificate): Buffer {
  let spki = spkiMemo.get(cert);
  if (!spki) {
    spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    spkiMemo.set(cert, spki);
  }
  return spki;
}

function associationData(selected: Buffer, matchingType: 0 | 1 | 2): Uint8Array {
  if (matchingType === 0) return new Uint8Array(selected);
  return new Uint8Array(createHash(matchingType === 1 ? 'sha256' : 'sha512').update(selected).digest());
}

/** Certificate association data for `certDer` with the given selector and matching type. */
export function tlsaDataFor(certDer: Uint8Array, selector: 0 | 1, matchingType: 0 | 1 | 2): Uint8Array {
  const der = Buffer.from(certDer.buffer, certDer.byteOffset, certDer.byteLength);
  return associationData(selector === 0 ? der : spkiOf(new X509Certificate(der)), matchingType);
}

/** Whether `cert` has the association data of record `r` (its selector and matching type). */
export function certMatches(cert: X509Certificate, r: TlsaWithData & { selector: 0 | 1; matchingType: 0 | 1 | 2 }): boolean {
  try {
    const data = associationData(r.selector === 0 ? cert.raw : spkiOf(cert), r.matchingType);
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(r.data);
  } catch {
    return false;
  }
}

/** Full(0) DANE-TA data must be a parseable certificate or key (OpenSSL parses it to use as a trust anchor). */
function parsesAsTrustAnchor(selector: 0 | 1, data: Uint8Array): boolean {
  const der = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    if (selector === 0) new X509Certificate(der);
    else createPublicKey({ key: der, format: 'der', type: 'spki' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Which rules apply: `smtp` (RFC 7672: PKIX-TA/PKIX-EE unusable, C21) or
 * `service` (RFC 6698/7671 for HTTPS, IMAP, submission…: all four usages).
 * The one place the two differ.
 */
export type TlsaProfile = 'smtp' | 'service';

/** Why a record is unusable for `profile` (default SMTP), or null when it is usable (C13, C21, C27). */
export function unusableReason(r: TlsaWithData, profile: TlsaProfile = 'smtp'): string | null {
  const pkix = r.usage === 0 || r.usage === 1;
  if (pkix && profile === 'smtp') return `${named(USAGE_NAMES, r.usage)} is not usable for SMTP (RFC 7672 §3.1.3)`;
  if (!pkix && r.usage !== 2 && r.usage !== 3) return `unknown certificate usage ${r.usage}`;
  if (r.selector !== 0 && r.selector !== 1) return `unknown selector ${r.selector}`;
  if (r.matchingType !== 0 && r.matchingType !== 1 && r.matchingType !== 2) return `unknown matching type ${r.matchingType}`;
  const length = lengthProblem(r);
  if (length !== null) return length;
  if (r.usage === 2 && r.matchingType === 0 && !parsesAsTrustAnchor(r.selector, r.data)) {
    return r.selector === 0 ? 'DANE-TA Full data is not a certificate' : 'DANE-TA Full data is not a public key';
  }
  return null;
}

function lengthProblem(r: TlsaWithData): string | null {
  const want = DIGEST_LENGTH[r.matchingType];
  if (want !== undefined && r.data.length !== want) return `digest length ${r.data.length}, expected ${want}`;
  if (r.matchingType === 0 && r.data.length === 0) return 'empty association data';
  return null;
}

function isUsable(r: TlsaWithData): r is UsableTlsa {
  return unusableReason(r) === null;
}

function sameRecord(a: UsableTlsa, b: UsableTlsa): boolean {
  return a.usage === b.usage && a.selector === b.selector && a.matchingType === b.matchingType && toHex(a.data) === toHex(b.data);
}

/** C26: per usage+selector keep Full(0) and the strongest digest present. */
export function applyDigestAgility<T extends TlsaFields>(records: T[]): T[] {
  const strongest = new Map<string, number>();
  for (const r of records) {
    if (r.matchingType === 0) continue;
    const key = `${r.usage}/${r.selector}`;
    strongest.set(key, Math.max(strongest.get(key) ?? 0, r.matchingType));
  }
  return records.filter((r) => r.matchingType === 0 || strongest.get(`${r.usage}/${r.selector}`) === r.matchingType);
}

/** The usable records of an RRset, duplicates removed, digest agility applied (C13, C26, C27). */
export function usableTlsa(rrset: Array<TlsaWithData>): UsableTlsa[] {
  const usable: UsableTlsa[] = [];
  for (const r of rrset) {
    const copy = { usage: r.usage, selector: r.selector, matchingType: r.matchingType, data: r.data };
    if (isUsable(copy) && !usable.some((u) => sameRecord(u, copy))) usable.push(copy);
  }
  return applyDigestAgility(usable);
}
