/**
 * When to use, fetch or refresh an MTA-STS policy (RFC 8461 §3.3, §5.1,
 * §8.3, §10.2), as pure decisions the shell (sts/resolver.ts) carries out.
 *
 * Contract:
 * - `planSts(cached, txt, now, refreshAheadMs)`:
 *   - a valid (non-expired) cached policy is used whenever the TXT record is
 *     unchanged, missing, or its lookup failed (§3.3: "if no live policy can
 *     be discovered ... but a valid policy exists in the sender's cache, the
 *     sender MUST apply that cached policy") — an attacker who strips the TXT
 *     record or blocks the fetch gains nothing once a policy is cached;
 *   - a changed `id` means fetch now (the cached policy stays the fallback);
 *   - `refresh: true` when the cached policy is within
 *     min(refreshAheadMs, max_age/2) of expiry: fetch in the background so
 *     it never lapses while in use;
 *   - no valid cache: a record → fetch; no record → no policy; a FAILED TXT
 *     lookup → `tempfail` (non-negotiable 1: never read as "no policy").
 * - `afterFetch(cached, id, fetched, now)`: a good policy replaces the cache
 *   (also `mode: none`, which is how a domain withdraws, §8.3); a failed or
 *   invalid fetch keeps a valid cached policy; with none, the domain is
 *   treated as having no policy and the failure is reported (§3.3).
 * Times are epoch milliseconds. Pure.
 */
import type { StsPolicy } from './sts-policy.ts';
import type { StsState } from './sts-precedence.ts';

export interface CachedStsPolicy {
  /** Policy domain, lower case. */
  domain: string;
  /** The TXT record id the policy was fetched under. */
  id: string;
  policy: StsPolicy;
  fetchedAt: number;
  /** fetchedAt + max_age. */
  expiresAt: number;
}

/** The `_mta-sts` TXT lookup, classified: the one record's id, no record (§3.1), or a DNS failure. */
export type StsTxtOutcome = { kind: 'record'; id: string } | { kind: 'none'; reason: string } | { kind: 'tempfail'; detail: string };

/** A policy fetch: the parsed policy or the TLSRPT failure type (RFC 8460 §4.3.2.2) and a reason. */
export type StsFetchOutcome =
  | { kind: 'policy'; policy: StsPolicy }
  | { kind: 'failure'; result: 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid'; reason: string };

export type StsPlan = { kind: 'use'; state: StsState; refresh: boolean } | { kind: 'fetch'; id: string };

export interface AfterFetch {
  state: StsState;
  /** The entry to persist, or null to leave the cache as it is. */
  store: CachedStsPolicy | null;
}

export function isCacheValid(cached: CachedStsPolicy | null, now: number): cached is CachedStsPolicy {
  return cached !== null && now < cached.expiresAt;
}

function fromCache(cached: CachedStsPolicy): StsState {
  return { kind: 'policy', policy: cached.policy, id: cached.id, from: 'cache' };
}

function refreshDue(cached: CachedStsPolicy, now: number, refreshAheadMs: number): boolean {
  const ahead = Math.min(refreshAheadMs, (cached.expiresAt - cached.fetchedAt) / 2);
  return now >= cached.expiresAt - ahead;
}

export function planSts(cached: CachedStsPolicy | null, txt: StsTxtOutcome, now: number, refreshAheadMs: number): StsPlan {
  if (isCacheValid(cached, now)) {
    if (txt.kind === 'record' && txt.id !== cached.id) return { kind: 'fetch', id: txt.id };
    // §3.3: unchanged, vanished or unresolvable TXT: the cached policy applies.
    return { kind: 'use', state: fromCache(cached), refresh: refreshDue(cached, now, refreshAheadMs) };
  }
  if (txt.kind === 'record') return { kind: 'fetch', id: txt.id };
  if (txt.kind === 'tempfail') return { kind: 'use', state: { kind: 'tempfail', detail: txt.detail }, refresh: false }; // non-negotiable 1
  return { kind: 'use', state: { kind: 'none', reason: txt.reason }, refresh: false };
}

export function afterFetch(domain: string, cached: CachedStsPolicy | null, id: string, fetched: StsFetchOutcome, now: number): AfterFetch {
  if (fetched.kind === 'policy') {
    const entry: CachedStsPolicy = { domain, id, policy: fetched.policy, fetchedAt: now, expiresAt: now + fetched.policy.maxAge * 1000 };
    return { state: { kind: 'policy', policy: fetched.policy, id, from: 'fetched' }, store: entry };
  }
  if (isCacheValid(cached, now)) return { state: fromCache(cached), store: null }; // §3.3: keep the cached policy
  // §3.3: no usable policy and nothing cached: deliver as without MTA-STS, report the failure.
  return { state: { kind: 'none', reason: `policy fetch failed: ${fetched.reason}`, failure: fetched.result }, store: null };
}
