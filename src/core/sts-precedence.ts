/**
 * Which policy source governs one MX host, as ONE pure function
 * (DESIGN.md "Policy sources"; RFC 8461 §2, §4, §5; RFC 7672 §2.2;
 * checklist C4, C28; non-negotiables 1 and 6).
 *
 * Precedence: local table > DANE > MTA-STS enforce > level default.
 * `choosePolicySource(input)`:
 * 1. a local per-destination table entry governs alone: `base` stands
 *    (the table's level already went through core/policy.ts);
 * 2. a `skip` from core/policy.ts stands (TLSA lookup failure C4,
 *    dane-only C19): MTA-STS never rescues a host DANE refused — an
 *    attacker who breaks the TLSA lookup must not get a PKIX-only delivery;
 * 3. usable DANE TLSA (`auth.kind === 'dane'`) governs alone, even when the
 *    domain also has an MTA-STS policy the host would fail (RFC 8461 §2,
 *    C28, non-negotiable 6);
 * 4. the STS TXT lookup FAILED and no cached policy exists → the host is
 *    skipped (4.4.3): a DNS failure is never "no policy" (non-negotiable 1);
 * 5. `enforce`: an MX host matching no `mx` pattern is skipped (4.7.5,
 *    §4.1); otherwise TLS is mandatory, the chain must validate to the
 *    local PKIX store and a DNS-ID must match the MX host name (§4.2), SNI
 *    is the MX host name. This replaces the level default, and also a
 *    secure-but-unusable TLSA RRset's `encrypt` (C15), which it only
 *    strengthens (TLS is mandatory in both);
 * 6. `testing`: the level default stands; `stsTesting` tells the caller what
 *    to check after the session, for the TLSRPT report only (§5);
 * 7. otherwise the level default.
 * `policyType` is what TLSRPT files the attempt under (RFC 8460 §4.4);
 * A `skip` policy carries its typed `cause` (`skipReason`): TLSRPT result
 * types, metrics and logs read it; nobody re-derives it from DSN codes.
 * Pure.
 */
import type { EffectivePolicy, PeerAuthentication } from './effective-policy.ts';
import { policyAllowsMx } from './sts-mx.ts';
import type { StsPolicy } from './sts-policy.ts';

/** What is known about MTA-STS for the next-hop domain (see core/sts-cache-rules.ts). */
export type StsState =
  | { kind: 'policy'; policy: StsPolicy; id: string; from: 'fetched' | 'cache' }
  | {
      kind: 'none';
      reason: string;
      /** Set when a policy was announced but could not be used (§3.3): reported, not enforced. */
      failure?: 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';
    }
  | { kind: 'tempfail'; detail: string };

export type PolicySource = 'local' | 'dane' | 'sts' | 'default';
export type ReportPolicyType = 'tlsa' | 'sts' | 'no-policy-found';

export interface PolicySourceInput {
  /** True when the destination matched a local table entry (DestinationPolicy.source !== 'default'). */
  localEntry: boolean;
  /** `resolvePolicy(destinationPolicy, facts)` for this host. */
  base: EffectivePolicy;
  mxHost: string;
  sts: StsState;
}

/**
 * Why a policy refused a host: the `cause` of a `skip` policy (core/refusal-cause.ts):
 * `tlsa_lookup_failure` (C4), `dane_required` (dane-only without usable TLSA,
 * C19), `sts_mx_mismatch` (RFC 8461 §4.1), `sts_policy_failure` (the
 * `_mta-sts` TXT lookup failed with nothing cached, non-negotiable 1).
 */
export type PolicySkipReason = Extract<EffectivePolicy, { kind: 'skip' }>['cause'];

/** The typed reason a policy refused the host, or null when it did not. */
export function skipReason(s: SourcedPolicy): PolicySkipReason | null {
  return s.policy.kind === 'skip' ? s.policy.cause : null;
}

export interface SourcedPolicy {
  source: PolicySource;
  policy: EffectivePolicy;
  policyType: ReportPolicyType;
  /** Under `testing`: what `enforce` would have required, checked after the session for TLSRPT only. */
  stsTesting: { mxAllowed: boolean; auth: PeerAuthentication } | null;
}

type Connect = Extract<EffectivePolicy, { kind: 'connect' }>;

function norm(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

function daneType(base: EffectivePolicy): ReportPolicyType {
  return base.kind === 'connect' && base.tlsaBase !== null ? 'tlsa' : 'no-policy-found';
}

function skipFor(base: EffectivePolicy, dsn: string, message: string, cause: 'sts_policy_failure' | 'sts_mx_mismatch'): EffectivePolicy {
  const level = base.kind === 'connect' ? base.configuredLevel : base.level;
  return { kind: 'skip', dsn, message, cause, daneResult: base.daneResult, level };
}

function stsConnect(base: Connect, mxHost: string, policy: StsPolicy, from: string): Connect {
  const host = norm(mxHost);
  return {
    ...base,
    level: 'secure',
    tlsRequired: true, // §4.2: TLS mandatory under enforce
    tlsAttempt: true,
    auth: { kind: 'pkix', referenceNames: [host] }, // §4.2: PKIX chain + DNS-ID = MX host name
    sni: host,
    feature: 'sts',
    reason: `MTA-STS enforce (${from} policy, mx ${policy.mx.join(' ')}): TLS mandatory, PKIX and name match [${host}]`,
  };
}

/**
 * Whether `choosePolicySource` will read the MTA-STS state for this host: not
 * under a local table entry (1), not for a skip (2), not when DANE governs
 * (3, C28). The caller may skip the `_mta-sts` lookup otherwise and pass any
 * state: the result does not depend on it.
 */
export function needsStsState(localEntry: boolean, base: EffectivePolicy): boolean {
  return !localEntry && base.kind === 'connect' && base.auth.kind !== 'dane';
}

export function choosePolicySource(input: PolicySourceInput): SourcedPolicy {
  const { base, sts, mxHost } = input;
  const plain = (source: PolicySource, policyType: ReportPolicyType): SourcedPolicy => ({ source, policy: base, policyType, stsTesting: null });
  if (input.localEntry) return plain('local', daneType(base)); // 1: local table overrides every source
  if (base.kind === 'skip') return plain('dane', 'tlsa'); // 2: C4/C19, never rescued by STS
  if (base.auth.kind === 'dane') return plain('dane', 'tlsa'); // 3: C28, RFC 8461 §2
  if (sts.kind === 'tempfail') {
    // 4: non-negotiable 1: a failed _mta-sts lookup is not "no policy".
    return { source: 'sts', policy: skipFor(base, '4.4.3', `MTA-STS policy lookup error: ${sts.detail}`, 'sts_policy_failure'), policyType: 'sts', stsTesting: null };
  }
  if (sts.kind === 'none' || sts.policy.mode === 'none') return plain('default', daneType(base));
  const allowed = policyAllowsMx(sts.policy.mx, mxHost);
  if (sts.policy.mode === 'testing') {
    return { ...plain('default', 'sts'), stsTesting: { mxAllowed: allowed, auth: { kind: 'pkix', referenceNames: [norm(mxHost)] } } };
  }
  if (!allowed) {
    // 5: §4.1, the host is not used under enforce.
    const message = `MX host ${norm(mxHost)} does not match MTA-STS policy mx [${sts.policy.mx.join(', ')}]`;
    return { source: 'sts', policy: skipFor(base, '4.7.5', message, 'sts_mx_mismatch'), policyType: 'sts', stsTesting: null };
  }
  return { source: 'sts', policy: stsConnect(base, mxHost, sts.policy, sts.from), policyType: 'sts', stsTesting: null };
}
