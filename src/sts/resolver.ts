/**
 * The MTA-STS resolver: for a next-hop domain, the `StsState` the policy
 * source decision (core/sts-precedence.ts) needs (RFC 8461 §3, §5.1).
 *
 * Contract (`createStsResolver(opts).resolve(domain)`):
 * - looks up `_mta-sts.DOMAIN` TXT (sts/txt-lookup.ts), reads the persisted
 *   cache (sts/cache-store.ts), lets core/sts-cache-rules.ts decide, and
 *   carries the decision out: fetch now (sts/fetch.ts, or the injected
 *   `fetch`), use the cache, refresh in the background ahead of expiry;
 * - a cached policy stays in force when the fetch fails or the TXT record
 *   vanishes (§3.3); a FAILED TXT lookup with nothing cached is `tempfail`
 *   (non-negotiable 1); a new policy is on disk before it is returned;
 * - concurrent resolutions of one domain share one fetch; a background
 *   refresh never blocks a delivery; `idle()` resolves when no refresh is
 *   running (tests and shutdown wait on it);
 * - `onEvent` receives one typed event per fetch or cache use, for logs.
 * Never throws for network or DNS trouble; a spool write error rejects
 * (the caller defers: a policy that cannot be persisted is not lost, it
 * is simply fetched again).
 */
import type { DnsLookup } from '../core/dns-result.ts';
import { afterFetch, planSts, type StsFetchOutcome } from '../core/sts-cache-rules.ts';
import type { StsState } from '../core/sts-precedence.ts';
import type { StsCacheStore } from './cache-store.ts';
import { lookupStsTxt } from './txt-lookup.ts';

export type StsEvent =
  | { kind: 'sts-policy-fetched'; domain: string; id: string; mode: string; maxAge: number; background: boolean }
  | { kind: 'sts-policy-fetch-failed'; domain: string; id: string; result: string; reason: string; cacheKept: boolean; background: boolean }
  | { kind: 'sts-txt-tempfail'; domain: string; detail: string; cacheUsed: boolean };

export interface StsResolverOptions {
  dns: DnsLookup;
  store: StsCacheStore;
  fetch: (domain: string) => Promise<StsFetchOutcome>;
  /** Refresh a cached policy this long before it expires (at most half its max_age). */
  refreshAheadMs: number;
  now?: () => number;
  onEvent?: (e: StsEvent) => void;
}

export interface StsResolver {
  resolve(domain: string): Promise<StsState>;
  idle(): Promise<void>;
}

export function createStsResolver(opts: StsResolverOptions): StsResolver {
  const now = opts.now ?? Date.now;
  const emit = opts.onEvent ?? (() => undefined);
  const fetching = new Map<string, Promise<StsState>>();
  const background = new Set<Promise<unknown>>();

  async function fetchAndStore(domain: string, id: string, inBackground: boolean): Promise<StsState> {
    const fetched = await opts.fetch(domain);
    const cached = opts.store.get(domain);
    const r = afterFetch(domain, cached, id, fetched, now());
    if (fetched.kind === 'policy') {
      emit({ kind: 'sts-policy-fetched', domain, id, mode: fetched.policy.mode, maxAge: fetched.policy.maxAge, background: inBackground });
    } else {
      emit({ kind: 'sts-policy-fetch-failed', domain, id, result: fetched.result, reason: fetched.reason, cacheKept: r.state.kind === 'policy', background: inBackground });
    }
    if (r.store) await opts.store.put(r.store);
    return r.state;
  }

  function fetchOnce(domain: string, id: string, inBackground: boolean): Promise<StsState> {
    const running = fetching.get(domain);
    if (running) return running;
    const p = fetchAndStore(domain, id, inBackground).finally(() => fetching.delete(domain));
    fetching.set(domain, p);
    return p;
  }

  function refreshInBackground(domain: string, id: string): void {
    if (fetching.has(domain)) return;
    const p = fetchOnce(domain, id, true).catch(() => undefined).finally(() => background.delete(p));
    background.add(p);
  }

  async function resolve(rawDomain: string): Promise<StsState> {
    const domain = rawDomain.toLowerCase().replace(/\.+$/, '');
    const txt = await lookupStsTxt(opts.dns, domain);
    const cached = opts.store.get(domain);
    const plan = planSts(cached, txt, now(), opts.refreshAheadMs);
    if (txt.kind === 'tempfail') emit({ kind: 'sts-txt-tempfail', domain, detail: txt.detail, cacheUsed: plan.kind === 'use' && plan.state.kind === 'policy' });
    if (plan.kind === 'fetch') return fetchOnce(domain, plan.id, false);
    if (plan.refresh && cached) refreshInBackground(domain, txt.kind === 'record' ? txt.id : cached.id);
    return plan.state;
  }

  return {
    resolve,
    idle: async () => {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}
