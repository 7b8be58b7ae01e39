/**
 * Classify a TLSA lookup into what the policy engine must do with it
 * (RFC 7672 §2.1.1, §2.1.2, §2.2, §2.2.3; RFC 7671 §7; checklist C1, C2, C4,
 * C5, C11, C12, C13, C15).
 *
 * Contract (`classifyTlsaAnswer`):
 * - `failure` (SERVFAIL — how a validating resolver reports bogus data —,
 *   timeout, …) → `tempfail`: the host must not be used (C1, C4). Never read
 *   as "absent" or "insecure".
 * - secure NXDOMAIN/NODATA → `not-applicable` `nxdomain`/`nodata` (C5);
 *   an insecure denial or an insecure RRset → `not-applicable` `insecure`:
 *   a TLSA RRset that is not secure counts as no TLSA at all (C2).
 * - secure RRset with at least one usable record → `records`; a secure RRset
 *   with none usable → `unusable` (TLS still mandatory, C15).
 *
 * `tlsaCandidates` gives the owner names to query in order (C11, C12) and
 * `combineTlsaStatuses` picks the governing answer (a tempfail at the
 * expanded name does not fall back to the original name). Pure.
 */
import type { DnsResult, TlsaRecord } from './dns-result.ts';
import type { UsableTlsa } from './effective-policy.ts';
import { usableTlsa } from './tlsa.ts';
import { normaliseName } from './reference-names.ts';

export type DaneStatus =
  | { kind: 'records'; base: string; usable: UsableTlsa[]; rrset: TlsaRecord[] }
  | { kind: 'unusable'; base: string; rrset: TlsaRecord[] }
  | { kind: 'not-applicable'; why: 'nxdomain' | 'nodata' | 'insecure' }
  | { kind: 'tempfail'; detail: string };

export function classifyTlsaAnswer(result: DnsResult<TlsaRecord>, base: string): DaneStatus {
  switch (result.kind) {
    case 'failure':
      // C1/C4: a failed lookup is its own outcome, never "no TLSA".
      return { kind: 'tempfail', detail: `${result.qname}: ${result.reason}${result.detail ? ` (${result.detail})` : ''}` };
    case 'nxdomain':
    case 'nodata':
      // C5: a validated denial means "no TLSA records"; an unvalidated one is insecure (C2).
      return { kind: 'not-applicable', why: result.secure ? result.kind : 'insecure' };
    case 'insecure':
      return { kind: 'not-applicable', why: 'insecure' }; // C2
    case 'secure': {
      const rrset = result.records.filter((r) => r.type === 'TLSA');
      if (rrset.length === 0) return { kind: 'not-applicable', why: 'nodata' };
      const usable = usableTlsa(rrset);
      // C15: a secure RRset with nothing usable still says "this host wants TLS".
      return usable.length > 0 ? { kind: 'records', base, usable, rrset } : { kind: 'unusable', base, rrset };
    }
  }
}


/**
 * TLSA owner names to try, in order (C11, C12): `_PORT._tcp.<expanded>` then
 * `_PORT._tcp.<original>` when the address lookup followed a secure CNAME
 * chain to a different name; else just the original.
 */
export function tlsaCandidates(port: number, host: string, address: { canonicalName: string; secure: boolean }): Array<{ owner: string; base: string }> {
  const original = normaliseName(host);
  const expanded = normaliseName(address.canonicalName);
  const bases = address.secure && expanded !== '' && expanded !== original ? [expanded, original] : [original];
  return bases.map((base) => ({ owner: `_${port}._tcp.${base}`, base }));
}

/**
 * Combine per-candidate statuses in candidate order (C11): the first that is
 * not `not-applicable` wins (so a tempfail at the expanded name does NOT fall
 * back); all not-applicable → the first one. An empty list is a caller bug.
 */
export function combineTlsaStatuses(statuses: DaneStatus[]): DaneStatus {
  const first = statuses[0];
  if (!first) throw new Error('combineTlsaStatuses: no TLSA status to combine');
  return statuses.find((s) => s.kind !== 'not-applicable') ?? first;
}
