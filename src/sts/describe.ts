/**
 * One-line descriptions of MTA-STS state and of the policy-source decision,
 * for `dane-relay check` and delivery logs (issue 18: "check shows the STS
 * record, the policy and its verdict next to DANE's"; log field
 * `policy_type`). Pure.
 */
import type { SourcedPolicy, StsState } from '../core/sts-precedence.ts';

export function describeStsState(domain: string, s: StsState): string {
  if (s.kind === 'tempfail') return `MTA-STS ${domain}: TXT lookup failed (${s.detail}); nothing cached: hosts without DANE defer`;
  if (s.kind === 'none') return `MTA-STS ${domain}: no policy (${s.reason})${s.failure ? ` [reported as ${s.failure}]` : ''}`;
  const p = s.policy;
  return `MTA-STS ${domain}: id ${s.id} (${s.from}), mode ${p.mode}, mx [${p.mx.join(', ')}], max_age ${p.maxAge}s${p.warnings.length ? ` (${p.warnings.join('; ')})` : ''}`;
}

/** `mx.example.com: sts -> connect feature=sts: <reason>` / `... skip 4.7.5: <message>`. */
export function describeSourcedPolicy(mxHost: string, s: SourcedPolicy): string {
  const p = s.policy;
  const what = p.kind === 'skip' ? `skip ${p.dsn}: ${p.message}` : `connect tls=${p.feature}: ${p.reason}`;
  const testing = s.stsTesting ? ` [MTA-STS testing: mx ${s.stsTesting.mxAllowed ? 'matches' : 'does NOT match'}; reported only]` : '';
  return `${mxHost}: policy_type=${s.policyType} source=${s.source} -> ${what}${testing}`;
}
