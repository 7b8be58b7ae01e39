/**
 * DANE for TLS services other than SMTP to MX hosts — HTTPS, IMAP, IMAPS,
 * submission, SMTPS (RFC 6698 §2.1.1, RFC 7671 §5, §9; checklist C13, C22–C27
 * for the parts shared with SMTP).
 *
 * Contract:
 * - `usableServiceTlsa`: records usable under the `service` profile of
 *   core/tlsa `unusableReason` (the one place where SMTP and other services
 *   differ: PKIX-TA(0) and PKIX-EE(1) count here), duplicates removed, digest
 *   agility applied (C26).
 * - `classifyServiceTlsa`: the SMTP classification (core/dane-status: a
 *   failure is `tempfail`, never "absent", C1/C4; an insecure RRset counts as
 *   none, C2) with the usable set recomputed for the service profile.
 * - `verifyService`: DANE-EE(3) and DANE-TA(2) exactly as for SMTP
 *   (core/tlsa-match, name check for DANE-TA with the service host name);
 *   PKIX-EE(1): the leaf matches AND the chain validates against the PKIX
 *   store AND the leaf carries the host name (RFC 6698 §2.1.1);
 *   PKIX-TA(0): a certificate on a PKIX-validated path (the store's anchor
 *   included) matches AND the leaf carries the name. Any one match
 *   authenticates (`Verified`). Never throws for a bad peer chain.
 *
 * Pure: node:crypto only; the PKIX store and the clock are passed in.
 */
import { X509Certificate } from 'node:crypto';
import type { DnsResult, TlsaRecord } from './dns-result.ts';
import type { UsableTlsa } from './effective-policy.ts';
import { classifyTlsaAnswer } from './dane-status.ts';
import { findPaths, issuedBy, validatePkix, validityProblem } from './path-validate.ts';
import { describeNameMismatch, matchReferenceName } from './reference-names.ts';
import { applyDigestAgility, certMatches, formatTlsa, unusableReason } from './tlsa.ts';
import { matchDane } from './tlsa-match.ts';
import type { TlsVerdict } from './tls-verdict.ts';

export interface ServiceTlsa {
  usage: 0 | 1 | 2 | 3;
  selector: 0 | 1;
  matchingType: 0 | 1 | 2;
  data: Uint8Array;
}

export type ServiceDaneStatus =
  | { kind: 'records'; base: string; usable: ServiceTlsa[]; rrset: TlsaRecord[] }
  | { kind: 'unusable'; base: string; rrset: TlsaRecord[] }
  | { kind: 'not-applicable'; why: 'nxdomain' | 'nodata' | 'insecure' }
  | { kind: 'tempfail'; detail: string };

/** Usable records for a non-SMTP service (see the module contract). */
export function usableServiceTlsa(rrset: TlsaRecord[]): ServiceTlsa[] {
  const out: ServiceTlsa[] = [];
  for (const r of rrset) {
    if (unusableReason(r, 'service') !== null) continue;
    const copy = { usage: r.usage, selector: r.selector, matchingType: r.matchingType, data: r.data } as ServiceTlsa;
    if (!out.some((u) => formatTlsa(u) === formatTlsa(copy))) out.push(copy);
  }
  return applyDigestAgility(out);
}

export function classifyServiceTlsa(result: DnsResult<TlsaRecord>, base: string): ServiceDaneStatus {
  const smtp = classifyTlsaAnswer(result, base);
  if (smtp.kind !== 'records' && smtp.kind !== 'unusable') return smtp;
  const usable = usableServiceTlsa(smtp.rrset);
  return usable.length > 0 ? { kind: 'records', base, usable, rrset: smtp.rrset } : { kind: 'unusable', base, rrset: smtp.rrset };
}

type Match = { record: ServiceTlsa; depth: number };

/** PKIX-EE(1) and PKIX-TA(0): a match on a chain that validates against the store. */
function matchPkixUsages(records: ServiceTlsa[], chain: X509Certificate[], anchors: X509Certificate[], now: Date): Match | string | null {
  const pkix = records.filter((r) => r.usage === 0 || r.usage === 1);
  const [leaf, ...pool] = chain;
  if (pkix.length === 0 || !leaf) return null;
  let why: string | null = null;
  for (const found of findPaths<X509Certificate>({
    leaf, pool,
    anchorAt: (cert) => anchors.find((a) => a.fingerprint256 === cert.fingerprint256),
    anchorAbove: (cert) => anchors.find((a) => issuedBy(cert, a)),
  })) {
    const problem = validityProblem(found, now);
    if (problem) { why ??= problem; continue; }
    const path = found.anchorInPath ? found.path : [...found.path, found.anchor];
    const ee = pkix.find((r) => r.usage === 1 && certMatches(leaf, r));
    if (ee) return { record: ee, depth: 0 };
    for (const [depth, cert] of path.entries()) {
      const ta = pkix.find((r) => r.usage === 0 && certMatches(cert, r));
      if (ta) return { record: ta, depth };
    }
    why ??= 'no PKIX-TA/PKIX-EE record matched the PKIX-validated chain';
  }
  const pkixResult = validatePkix(chain, anchors, now);
  return why ?? (pkixResult.ok ? null : `PKIX-TA/PKIX-EE need a PKIX-valid chain: ${pkixResult.reason}`);
}

/** Authenticate a service's chain against its usable TLSA records (see the module contract). */
export function verifyService(records: ServiceTlsa[], chainDer: Uint8Array[], host: string, anchors: X509Certificate[], now: Date): TlsVerdict {
  const chain: X509Certificate[] = [];
  for (const [i, der] of chainDer.entries()) {
    try { chain.push(new X509Certificate(Buffer.from(der))); } catch { if (i === 0) return { state: 'Untrusted', authenticated: false, pkixTrusted: false, reason: 'server certificate cannot be parsed' }; }
  }
  const leaf = chain[0];
  if (!leaf) return { state: 'Anonymous', authenticated: false, pkixTrusted: false, reason: 'no certificate presented' };
  const pkixTrusted = validatePkix(chain, anchors, now).ok;
  const dane = records.filter((r): r is UsableTlsa & ServiceTlsa => r.usage === 2 || r.usage === 3);
  const reasons: string[] = [];
  if (dane.length > 0) {
    const m = matchDane(dane, chain, [host], now);
    if (m.kind === 'match') return { state: 'Verified', authenticated: true, pkixTrusted, matched: { record: formatTlsa(m.record), depth: m.depth } };
    reasons.push(m.reason);
  }
  const p = matchPkixUsages(records, chain, anchors, now);
  if (p !== null && typeof p !== 'string') {
    if (matchReferenceName(leaf, [host]) === null) {
      reasons.push(`PKIX match but name mismatch: ${describeNameMismatch(leaf, [host])}`);
    } else {
      return { state: 'Verified', authenticated: true, pkixTrusted, matched: { record: formatTlsa(p.record), depth: p.depth } };
    }
  } else if (typeof p === 'string') reasons.push(p);
  return { state: pkixTrusted ? 'Trusted' : 'Untrusted', authenticated: false, pkixTrusted, reason: reasons.join('; ') || 'no TLSA record matched the certificate chain' };
}
