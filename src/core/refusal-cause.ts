/**
 * Why a host was not used or a recipient was not delivered: one typed cause,
 * decided where the failure is classified (core/outcome, core/policy,
 * core/mx-order, the verify step) and carried on the log events, so metrics
 * and `report` count causes without parsing text (C30 audit trail).
 *
 * The words are the log vocabulary (snake_case like `dane.result`):
 * - `tlsa_mismatch` usable TLSA, no match (C16, 4.7.5 "Server certificate not verified")
 * - `certificate_not_verified` PKIX/fingerprint authentication failed (verify, secure, fingerprint levels)
 * - `tlsa_lookup_failure` the TLSA lookup failed (C4, "TLSA lookup error for HOST:PORT")
 * - `dane_required` `dane-only` and no usable, DNSSEC-validated TLSA (C19)
 * - `sts_policy_failure` MTA-STS: the policy could not be looked up, nothing cached (4.4.3)
 * - `sts_mx_mismatch` MTA-STS `enforce`: the MX host matches no `mx` pattern (RFC 8461 §4.1)
 * - `requiretls_unavailable` a REQUIRETLS message and a host not DANE-authenticated or not offering it (RFC 8689, 5.7.30)
 * - `mail_loop` the next hop is the relay itself, or too many hops (5.4.6)
 * - `starttls_missing` TLS required, not offered or refused (C14, 4.7.4)
 * - `tls_failure` the TLS handshake failed
 * - `dns_failure` MX or address lookup failed, or an MX host has no address (C3)
 * - `connection_failure` connect failed, connection lost, a deadline passed (4.4.1, 4.4.2)
 * - `null_mx` the domain accepts no mail (C29, 5.1.10)
 * - `no_such_domain` NXDOMAIN (5.1.2)
 * - `remote_reject` / `remote_tempfail` the server said 5xx / 4xx
 * - `feature_unsupported` the message needs an extension the server lacks (SMTPUTF8, SIZE)
 * - `local_error` the relay could not read the message
 * - `other` anything else (kept so a new failure is still counted)
 * Pure.
 */
export const REFUSAL_CAUSES = [
  'tlsa_mismatch', 'certificate_not_verified', 'tlsa_lookup_failure', 'dane_required', 'sts_policy_failure', 'sts_mx_mismatch',
  'requiretls_unavailable', 'mail_loop', 'starttls_missing', 'tls_failure',
  'dns_failure', 'connection_failure', 'null_mx', 'no_such_domain', 'remote_reject', 'remote_tempfail',
  'feature_unsupported', 'local_error', 'other',
] as const;
export type RefusalCause = (typeof REFUSAL_CAUSES)[number];

export const CAUSE_LABELS: Record<RefusalCause, string> = {
  tlsa_mismatch: 'TLSA mismatch (server certificate not verified)',
  certificate_not_verified: 'certificate not verified (PKIX or fingerprint)',
  tlsa_lookup_failure: 'TLSA lookup failure',
  dane_required: 'DANE required (dane-only) but no usable TLSA',
  sts_policy_failure: 'MTA-STS policy lookup failure',
  sts_mx_mismatch: 'MX host not allowed by the MTA-STS policy',
  requiretls_unavailable: 'REQUIRETLS cannot be honoured by the host',
  mail_loop: 'mail loop (next hop is this relay)',
  starttls_missing: 'STARTTLS missing (TLS required, not offered)',
  tls_failure: 'TLS failure (handshake)',
  dns_failure: 'DNS failure',
  connection_failure: 'connection failed or lost',
  null_mx: 'null MX (domain accepts no mail)',
  no_such_domain: 'no such domain',
  remote_reject: 'rejected by remote server',
  remote_tempfail: 'temporary failure at remote server',
  feature_unsupported: 'extension required but not offered',
  local_error: 'local error',
  other: 'other',
};

export function isRefusalCause(v: unknown): v is RefusalCause {
  return typeof v === 'string' && (REFUSAL_CAUSES as readonly string[]).includes(v);
}
