/**
 * The cause of a refusal read from a log line that does not carry one: a
 * Postfix maillog, or an old relay log. The relay's own events carry the
 * typed `cause` (core/refusal-cause.ts) and `report` uses it as it is; this
 * is the fallback, from the DSN code and Postfix's wording.
 *
 * Contract (pure, total): every input maps to exactly one `RefusalCause`;
 * unknown shapes become `other`. Rules, first match wins:
 * - text "TLSA lookup error"                          → tlsa_lookup_failure (C4, 4.7.5)
 * - text "dane-only"                                  → dane_required (C19)
 * - text "MTA-STS policy lookup error"                → sts_policy_failure
 * - text "does not match MTA-STS policy"              → sts_mx_mismatch (RFC 8461 §4.1)
 * - 5.7.30, or text "REQUIRETLS"                      → requiretls_unavailable (RFC 8689)
 * - text "loops back to myself", or 5.4.6             → mail_loop
 * - 4.7.5 + "certificate not verified"                → tlsa_mismatch (C16; Postfix says the same for PKIX levels)
 * - 4.7.4, or "TLS is required, but was not offered"  → starttls_missing (C14)
 * - other 4.7.x                                       → tls_failure
 * - 4.4.3, 5.4.4 (MX host without address)           → dns_failure (C3)
 * - 4.4.1, 4.4.2 (connect failed / lost)              → connection_failure
 * - 5.1.10                                            → null_mx (C29)
 * - 5.1.2                                             → no_such_domain
 * - other 5.x.x → remote_reject; other 4.x.x → remote_tempfail
 */
import type { RefusalCause } from '../../core/refusal-cause.ts';

export { CAUSE_LABELS } from '../../core/refusal-cause.ts';

export function classifyCause(dsn: string | undefined, text: string): RefusalCause {
  const t = text.toLowerCase();
  const d = dsn ?? '';
  if (t.includes('tlsa lookup error')) return 'tlsa_lookup_failure';
  if (t.includes('dane-only')) return 'dane_required';
  if (t.includes('mta-sts policy lookup error')) return 'sts_policy_failure';
  if (t.includes('does not match mta-sts policy')) return 'sts_mx_mismatch';
  if (d === '5.7.30' || t.includes('requiretls')) return 'requiretls_unavailable';
  if (d === '5.4.6' || t.includes('loops back to myself')) return 'mail_loop';
  if (d === '4.7.5' && t.includes('certificate not verified')) return 'tlsa_mismatch';
  if (d === '4.7.4' || t.includes('tls is required, but was not offered')) return 'starttls_missing';
  if (/^4\.7\.\d+$/.test(d)) return 'tls_failure';
  if (d === '4.4.3' || d === '5.4.4') return 'dns_failure';
  if (d === '4.4.1' || d === '4.4.2') return 'connection_failure';
  if (d === '5.1.10') return 'null_mx';
  if (d === '5.1.2') return 'no_such_domain';
  if (/^5\.\d+\.\d+$/.test(d)) return 'remote_reject';
  if (/^4\.\d+\.\d+$/.test(d)) return 'remote_tempfail';
  if (t.includes('certificate not verified')) return 'tlsa_mismatch';
  return 'other';
}
