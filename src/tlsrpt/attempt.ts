/**
 * From one host-walk step to the TLSRPT attempt record (RFC 8460 §4.4),
 * so the delivery engine records every attempt with one call. Pure.
 *
 * Contract (`tlsrptAttempt(input)`):
 * - the policy is what governed the host (core/sts-precedence.ts
 *   `SourcedPolicy.policyType`): `tlsa` → policy-string = the TLSA RRset in
 *   presentation form, mx-host = [MX host]; `sts` → policy-string = the
 *   policy lines, mx-host = its patterns; `no-policy-found` → both empty;
 * - an MTA-STS policy that could not be fetched (StsState `none` with a
 *   `failure`) is filed under `sts` with that failure (§4.3.2.2), even
 *   though delivery went on without a policy (RFC 8461 §3.3);
 * - under `testing` the caller passes the facts of the report-only check
 *   (the `stsTesting` auth verified after the session) as `facts`, and
 *   `tlsRequired: true`, so the report says what enforce would have said;
 * - the result is `attemptResult(facts, tlsRequired, stsFailure)`.
 */
import type { TlsaRecord } from '../core/dns-result.ts';
import type { ReportPolicyType, StsState } from '../core/sts-precedence.ts';
import { formatTlsa } from '../core/tlsa.ts';
import { attemptResult, type AttemptFacts, type TlsrptAttempt } from './result-types.ts';

export interface AttemptInput {
  at: number;
  /** The next-hop (recipient) domain. */
  policyDomain: string;
  policyType: ReportPolicyType;
  sts: StsState;
  /** The host's secure TLSA RRset, when TLSA governed. */
  tlsa: TlsaRecord[];
  mxHost: string;
  receivingIp?: string;
  receivingMxHelo?: string;
  sendingMtaIp?: string;
  facts: AttemptFacts;
  tlsRequired: boolean;
}

function stsPolicyOf(sts: StsState): { strings: string[]; mx: string[] } {
  return sts.kind === 'policy' ? { strings: sts.policy.lines, mx: sts.policy.mx } : { strings: [], mx: [] };
}

export function tlsrptAttempt(input: AttemptInput): TlsrptAttempt {
  const stsFailure = input.sts.kind === 'none' ? input.sts.failure : undefined;
  const policyType: ReportPolicyType = stsFailure !== undefined && input.policyType !== 'tlsa' ? 'sts' : input.policyType;
  const mxHost = input.mxHost.toLowerCase().replace(/\.+$/, '');
  let policyStrings: string[] = [];
  let mxPatterns: string[] = [];
  if (policyType === 'tlsa') {
    policyStrings = input.tlsa.map(formatTlsa);
    mxPatterns = [mxHost];
  } else if (policyType === 'sts') {
    ({ strings: policyStrings, mx: mxPatterns } = stsPolicyOf(input.sts));
  }
  const a: TlsrptAttempt = {
    at: input.at, policyDomain: input.policyDomain.toLowerCase().replace(/\.+$/, ''), policyType, policyStrings, mxHost: mxPatterns,
    receivingMxHostname: mxHost,
    result: attemptResult(input.facts, input.tlsRequired, policyType === 'sts' ? stsFailure : undefined),
  };
  if (input.receivingIp) a.receivingIp = input.receivingIp;
  if (input.receivingMxHelo) a.receivingMxHelo = input.receivingMxHelo;
  if (input.sendingMtaIp) a.sendingMtaIp = input.sendingMtaIp;
  return a;
}
