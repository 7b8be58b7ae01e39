/**
 * Cache lifetimes (RFC 2308 negative caching) and the LRU bound.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cacheTtlSeconds, DnsCache, type CacheLimits } from '../../src/dns/cache.ts';
import type { DnsResult } from '../../src/core/dns-result.ts';

const limits: CacheLimits = { maxEntries: 10, maxTtlSeconds: 600, failureTtlSeconds: 5, negativeMaxTtlSeconds: 120 };
const a = (ttl: number) => ({ type: 'A' as const, name: 'h.example', ttl, address: '127.0.0.1' });
const cname = (ttl: number) => ({ type: 'CNAME' as const, name: 'x.example', ttl, target: 'h.example' });
const answered = (kind: 'secure' | 'insecure', ttls: number[], cnameTtls: number[] = []): DnsResult<unknown> =>
  ({ kind, records: ttls.map(a), qname: 'x.example', canonicalName: 'h.example', cnames: cnameTtls.map(cname) });
const denial = (kind: 'nxdomain' | 'nodata'): DnsResult<unknown> =>
  ({ kind, secure: true, qname: 'x.example', canonicalName: 'x.example', cnames: [] });

describe('DNS cache', () => {
  test('cacheTtlSeconds: positive min TTL capped; negative per SOA capped, none without SOA; failures ≤ 30 s', () => {
    const failure: DnsResult<unknown> = { kind: 'failure', reason: 'servfail', qname: 'x', detail: '' };
    const table: Array<[DnsResult<unknown>, CacheLimits, number | undefined, number]> = [
      [answered('secure', [300, 60]), limits, undefined, 60],
      [answered('insecure', [3000]), limits, undefined, 600],
      [answered('secure', [300], [20]), limits, undefined, 20],
      [answered('secure', [0]), limits, undefined, 0],
      [denial('nxdomain'), limits, 90, 90],
      [denial('nodata'), limits, 900, 120],
      [denial('nodata'), limits, undefined, 0],
      [failure, limits, undefined, 5],
      [failure, { ...limits, failureTtlSeconds: 3600 }, undefined, 30],
    ];
    for (const [i, [r, l, neg, want]] of table.entries()) assert.equal(cacheTtlSeconds(r, l, neg), want, `row ${i}`);
  });

  test('entries expire by the injected clock; ttl 0 is not stored; LRU bound holds', () => {
    let now = 0;
    const c = new DnsCache(2, () => now);
    const r = answered('secure', [10]);
    c.set('k1', r, 10);
    c.set('k0', r, 0);
    assert.equal(c.get('k0'), undefined);
    now = 9_999;
    assert.equal(c.get('k1'), r);
    now = 10_000;
    assert.equal(c.get('k1'), undefined);
    c.set('a', r, 100); c.set('b', r, 100); c.set('c', r, 100);
    assert.equal(c.size, 2);
    assert.equal(c.get('a'), undefined);
  });
});
