/**
 * SMTP TLS Reporting result types and the per-attempt record (RFC 8460
 * §4.3, §4.4), and what one delivery attempt counts as.
 *
 * Contract (`attemptResult(facts)`), pure:
 * - a host skipped before connecting: TLSA lookup failed → `dnssec-invalid`;
 *   `dane-only` without validated TLSA → `dane-required`; MX outside the
 *   MTA-STS patterns → `validation-failure` (reason code
 *   `sts-mx-mismatch`); STS TXT lookup failed → `sts-policy-fetch-error`;
 * - required TLS not established (STARTTLS missing, refused, handshake
 *   failed) → `starttls-not-supported`;
 * - TLS up and authentication required but failed: DANE → `tlsa-invalid`
 *   (no record of the RRset was valid for the presented chain); PKIX (STS
 *   enforce or testing) → `certificate-expired` when the chain failed on a
 *   validity date, `certificate-not-trusted` when it did not chain to a
 *   trusted root, `certificate-host-mismatch` when it did but the name did
 *   not match; fingerprint → `validation-failure`;
 * - otherwise success;
 * - an MTA-STS policy that was announced but could not be fetched or parsed
 *   (`stsFailure`) makes the attempt a failure of that type (RFC 8460
 *   §4.3.2.2), whatever the session did (delivery went on without a policy,
 *   RFC 8461 §3.3).
 */
import type { PolicySkipReason } from '../core/sts-precedence.ts';
import type { ReportPolicyType } from '../core/sts-precedence.ts';
import type { TlsVerdict } from '../core/tls-verdict.ts';

export const TLSRPT_RESULT_TYPES = [
  // §4.3.1 negotiation failures
  'starttls-not-supported', 'certificate-host-mismatch', 'certificate-expired', 'certificate-not-trusted', 'validation-failure',
  // §4.3.2.1 DANE policy failures
  'tlsa-invalid', 'dnssec-invalid', 'dane-required',
  // §4.3.2.2 MTA-STS policy failures
  'sts-policy-fetch-error', 'sts-policy-invalid', 'sts-webpki-invalid',
] as const;
export type TlsrptResultType = (typeof TLSRPT_RESULT_TYPES)[number];

export type AttemptResult =
  | { kind: 'success' }
  | {
      kind: 'failure';
      resultType: TlsrptResultType;
      /** §4.4 failure-reason-code: free text for the receiver's diagnosis. */
      reasonCode?: string;
    };

/** One session attempt as stored (src/tlsrpt/store.ts) and aggregated (src/tlsrpt/report.ts). */
export interface TlsrptAttempt {
  /** Epoch ms. */
  at: number;
  /** The recipient (policy) domain, lower case. */
  policyDomain: string;
  policyType: ReportPolicyType;
  /** §4.4 policy-string: TLSA records as presentation strings, or the STS policy lines; empty for no-policy-found. */
  policyStrings: string[];
  /** §4.4 mx-host: the STS policy's mx patterns, or the MX host for a TLSA policy. */
  mxHost: string[];
  receivingMxHostname: string;
  receivingIp?: string;
  receivingMxHelo?: string;
  sendingMtaIp?: string;
  result: AttemptResult;
}

export type AttemptFacts =
  | { kind: 'skipped'; why: PolicySkipReason }
  | { kind: 'no-tls' }
  | { kind: 'tls'; auth: 'none' | 'dane' | 'pkix' | 'fingerprint'; verdict: TlsVerdict };

export type StsFetchFailure = 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';

function fail(resultType: TlsrptResultType, reasonCode?: string): AttemptResult {
  return reasonCode === undefined ? { kind: 'failure', resultType } : { kind: 'failure', resultType, reasonCode };
}

const SKIP: Record<Extract<AttemptFacts, { kind: 'skipped' }>['why'], AttemptResult> = {
  tlsa_lookup_failure: fail('dnssec-invalid'),
  dane_required: fail('dane-required'),
  sts_mx_mismatch: fail('validation-failure', 'sts-mx-mismatch'),
  sts_policy_failure: fail('sts-policy-fetch-error', 'txt-lookup-failed'),
};

function pkixFailure(v: TlsVerdict): AttemptResult {
  const reason = v.reason ?? '';
  if (!v.pkixTrusted) return /expired|not yet valid|validity/i.test(reason) ? fail('certificate-expired', reason) : fail('certificate-not-trusted', reason);
  return fail('certificate-host-mismatch', reason);
}

export function attemptResult(facts: AttemptFacts, tlsRequired: boolean, stsFailure?: StsFetchFailure): AttemptResult {
  if (stsFailure !== undefined) return fail(stsFailure);
  if (facts.kind === 'skipped') return SKIP[facts.why];
  if (facts.kind === 'no-tls') return tlsRequired ? fail('starttls-not-supported') : { kind: 'success' };
  if (facts.auth === 'none' || facts.verdict.authenticated) return { kind: 'success' };
  if (facts.auth === 'dane') return fail('tlsa-invalid', facts.verdict.reason);
  if (facts.auth === 'pkix') return pkixFailure(facts.verdict);
  return fail('validation-failure', facts.verdict.reason);
}
