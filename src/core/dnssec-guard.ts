/**
 * What a failed DNSSEC self-check means for whatever is about to run (RFC 7672
 * §2.1.3, C6; Postfix `dnssec_probe`). One decision for `serve` (start-up) and
 * `check` (before any domain is looked at).
 *
 * Contract (pure, never throws):
 * - a validated probe → `proceed`;
 * - a failed probe when DANE is required (the level in force, or some policy
 *   entry, is `dane`/`dane-only`) and `on_failure` is `refuse` → `refuse`:
 *   with a resolver that does not validate every TLSA answer would look
 *   insecure and DANE would silently never apply (C1, C2);
 * - any other failed probe → `warn`: go on, and say so loudly.
 */

export type DnssecProbeOutcome = { ok: true } | { ok: false; reason: string };

export type DnssecGuardDecision =
  | { kind: 'proceed' }
  | { kind: 'warn'; reason: string }
  | { kind: 'refuse'; reason: string };

export interface DnssecGuardContext {
  daneRequired: boolean;
  onFailure: 'refuse' | 'warn';
}

export function dnssecGuard(probe: DnssecProbeOutcome, ctx: DnssecGuardContext): DnssecGuardDecision {
  if (probe.ok) return { kind: 'proceed' };
  // C6: refuse only when DANE is in force; a relay without DANE does not depend on validation.
  if (ctx.daneRequired && ctx.onFailure === 'refuse') return { kind: 'refuse', reason: probe.reason };
  return { kind: 'warn', reason: probe.reason };
}
