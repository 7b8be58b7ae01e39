/**
 * What `dane-relay check` shows about TLSA records and the presented chain,
 * computed with the relay's core functions (RFC 6698 §2.1, RFC 7218, RFC 7671
 * §9, RFC 7672 §3.1; checklist C13, C20, C22, C23, C26).
 *
 * Contract:
 * - `describeRrset` lists every published record with its RFC 7218 name and
 *   whether it counts: usable after digest agility, or why not (core
 *   `unusableReason`, C13/C21/C27; a weaker digest dropped by C26).
 * - `tlsaReport` turns the governing `DaneStatus` (core/dane-status) of a
 *   host into the RRset facts and their DNSSEC status in words.
 * - `markChain` shows the chain depth by depth and marks, at each depth, the
 *   usable records that can match there — DANE-EE(3) at depth 0 only (C22),
 *   DANE-TA(2) at depth >= 1 only (C23) — as matched or not, by comparing the
 *   association data (core `tlsaDataFor`). These marks are a data comparison
 *   for people; the verdict (path, names, dates: C23–C25) is core verifyPeer's,
 *   reported separately.
 * Nothing throws: an unparseable certificate is shown with null fields and
 * matches nothing.
 * Pure: node:crypto only.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { DaneStatus } from '../../core/dane-status.ts';
import type { TlsaRecord } from '../../core/dns-result.ts';
import type { UsableTlsa } from '../../core/effective-policy.ts';
import { describeTlsa, formatTlsa, tlsaDataFor, toHex, unusableReason } from '../../core/tlsa.ts';
import { nameLine } from '../../core/reference-names.ts';
import type { CertReport, TlsaRecordReport, TlsaReport } from './types.ts';

type RecordFields = Pick<TlsaRecord, 'usage' | 'selector' | 'matchingType' | 'data'>;

/** Every record of a secure RRset, with whether it counts and why not. */
export function describeRrset(rrset: RecordFields[], usable: UsableTlsa[]): TlsaRecordReport[] {
  const usableSet = new Set(usable.map((u) => formatTlsa(u)));
  return rrset.map((r) => {
    const record = formatTlsa(r);
    const base = { record, description: describeTlsa(r) };
    if (usableSet.has(record)) return { ...base, usable: true };
    const why = unusableReason(r);
    // Usable on its own, yet not kept: a stronger digest for the same usage and selector is present (C26).
    return { ...base, usable: false, note: why ?? 'ignored: a stronger digest is published for the same usage and selector (digest agility)' };
  });
}

/** The TLSA facts of one host from its governing DaneStatus (null: no lookup was made). */
export function tlsaReport(status: DaneStatus | null, port: number, noLookupWhy: string): TlsaReport {
  if (status === null) return { status: 'not-looked-up', dnssec: 'not looked up', owner: null, base: null, records: [], detail: noLookupWhy };
  switch (status.kind) {
    case 'records':
    case 'unusable': {
      const usable = status.kind === 'records' ? status.usable : [];
      return { status: status.kind, dnssec: 'secure', owner: `_${port}._tcp.${status.base}`, base: status.base, records: describeRrset(status.rrset, usable) };
    }
    case 'not-applicable': {
      const dnssec = status.why === 'insecure' ? 'insecure (counts as no TLSA, C2)' : `securely absent (${status.why})`;
      return { status: 'not-applicable', dnssec, owner: null, base: null, records: [] };
    }
    case 'tempfail':
      return { status: 'tempfail', dnssec: 'lookup failed (SERVFAIL/bogus or no answer)', owner: null, base: null, records: [], detail: status.detail };
  }
}

function parse(der: Uint8Array): X509Certificate | null {
  try {
    return new X509Certificate(Buffer.from(der));
  } catch {
    return null;
  }
}

function dataMatches(der: Uint8Array, r: UsableTlsa): boolean {
  try {
    return toHex(tlsaDataFor(der, r.selector, r.matchingType)) === toHex(r.data);
  } catch {
    return false;
  }
}

/** The records that can match at `depth`: DANE-EE at the leaf (C22), DANE-TA above it (C23). */
function relevantAt(depth: number, usable: UsableTlsa[]): UsableTlsa[] {
  return usable.filter((r) => (depth === 0 ? r.usage === 3 : r.usage === 2));
}

/** The presented chain, leaf first, each certificate with its TLSA marks. */
export function markChain(chain: Uint8Array[], usable: UsableTlsa[]): CertReport[] {
  return chain.map((der, depth) => {
    const cert = parse(der);
    return {
      depth,
      subject: cert ? nameLine(cert.subject) : null,
      issuer: cert ? nameLine(cert.issuer) : null,
      notBefore: cert ? new Date(cert.validFrom).toISOString() : null,
      notAfter: cert ? new Date(cert.validTo).toISOString() : null,
      sha256: createHash('sha256').update(der).digest('hex'),
      marks: relevantAt(depth, usable).map((r) => ({ record: formatTlsa(r), matched: cert !== null && dataMatches(der, r) })),
    };
  });
}
