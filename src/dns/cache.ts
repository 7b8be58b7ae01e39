/**
 * Result cache for the DNS client, on lru-cache, with an injectable clock.
 *
 * Contract (RFC 2308, RFC 1035 §3.2.1):
 * - positive answers live for the smallest TTL of their records and CNAME
 *   links, capped by `maxTtlSeconds`;
 * - NXDOMAIN/NODATA live for min(SOA TTL, SOA minimum), capped by
 *   `negativeMaxTtlSeconds`; a denial without SOA is not cached (RFC 2308 §5);
 * - failures live `failureTtlSeconds` (never more than 30 s) so a broken zone
 *   is not hammered, yet a transient failure heals quickly;
 * - TTL 0 → not cached. At most `maxEntries` entries (least recently used go).
 * Cached results are shared objects: callers must treat them as read-only.
 */
import { LRUCache } from 'lru-cache';
import type { DnsResult } from '../core/dns-result.ts';

export const FAILURE_TTL_CAP_SECONDS = 30;

export interface CacheLimits {
  maxEntries: number;
  maxTtlSeconds: number;
  failureTtlSeconds: number;
  negativeMaxTtlSeconds: number;
}

export const DEFAULT_CACHE_LIMITS: Readonly<CacheLimits> = {
  maxEntries: 10_000, maxTtlSeconds: 3600, failureTtlSeconds: 5, negativeMaxTtlSeconds: 900,
};

interface Entry { result: DnsResult<unknown>; expiresAt: number }

/** Seconds `result` may be cached; `negativeTtl` is the SOA-derived hint for denials. */
export function cacheTtlSeconds(result: DnsResult<unknown>, limits: CacheLimits, negativeTtl?: number): number {
  switch (result.kind) {
    case 'secure':
    case 'insecure': {
      const ttls = [...(result.records as Array<{ ttl: number }>), ...result.cnames].map((r) => r.ttl);
      return Math.max(0, Math.min(limits.maxTtlSeconds, ...ttls));
    }
    case 'nxdomain':
    case 'nodata':
      return negativeTtl === undefined ? 0 : Math.max(0, Math.min(negativeTtl, limits.negativeMaxTtlSeconds));
    case 'failure':
      return Math.max(0, Math.min(limits.failureTtlSeconds, FAILURE_TTL_CAP_SECONDS));
  }
}

export class DnsCache {
  private readonly lru: LRUCache<string, Entry>;

  constructor(maxEntries: number, private readonly now: () => number) {
    this.lru = new LRUCache<string, Entry>({ max: Math.max(1, maxEntries) });
  }

  get(key: string): DnsResult<unknown> | undefined {
    const e = this.lru.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.lru.delete(key);
      return undefined;
    }
    return e.result;
  }

  set(key: string, result: DnsResult<unknown>, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.lru.set(key, { result, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }
}
