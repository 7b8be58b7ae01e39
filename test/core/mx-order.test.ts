/**
 * core/mx-order: MX sorting and shuffling (RFC 5321 §5.1), implicit MX (C9),
 * null MX (C29), NXDOMAIN, lookup failure (C3), address order and limits.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsResult, MxRecord } from '../../src/core/dns-result.ts';
import { isNullMx, limitTargets, orderAddresses, planMx, sortMx, type FamilyAddress } from '../../src/core/mx-order.ts';

const mx = (preference: number, exchange: string): MxRecord => ({ type: 'MX', name: 'example.com', ttl: 300, preference, exchange });
const answered = (kind: 'secure' | 'insecure', records: MxRecord[]): DnsResult<MxRecord> =>
  ({ kind, records, qname: 'example.com', canonicalName: 'example.com', cnames: [] });
const seq = (values: number[]) => { let i = 0; return () => values[i++ % values.length] ?? 0; };

describe('planMx', () => {
  const base = { qname: 'example.com', canonicalName: 'example.com', cnames: [] };
  const rows: Array<{ name: string; result: DnsResult<MxRecord>; want: unknown }> = [
    { name: 'C3: lookup failure defers 4.4.3, no address fall-back',
      result: { kind: 'failure', reason: 'servfail', qname: 'example.com', detail: 'SERVFAIL' },
      want: { kind: 'defer', dsn: '4.4.3', diagnostic: 'Host or domain name not found. Name service error for name=example.com type=MX: Host not found, try again', cause: 'dns_failure' } },
    { name: 'NXDOMAIN bounces 5.1.2 (secure)', result: { kind: 'nxdomain', secure: true, ...base },
      want: { kind: 'bounce', dsn: '5.1.2', diagnostic: 'Host or domain name not found. Name service error for name=example.com type=MX: Host not found', cause: 'no_such_domain' } },
    { name: 'NXDOMAIN bounces 5.1.2 (insecure)', result: { kind: 'nxdomain', secure: false, ...base },
      want: { kind: 'bounce', dsn: '5.1.2', diagnostic: 'Host or domain name not found. Name service error for name=example.com type=MX: Host not found', cause: 'no_such_domain' } },
    { name: 'C9: NODATA → implicit MX, the domain itself', result: { kind: 'nodata', secure: true, ...base },
      want: { kind: 'hosts', route: 'implicit', mxSecure: true, hosts: [{ host: 'example.com', preference: 0 }] } },
    { name: 'C29: lone "0 ." is a null MX → bounce 5.1.10', result: answered('secure', [mx(0, '.')]),
      want: { kind: 'bounce', dsn: '5.1.10', diagnostic: 'Domain example.com does not accept mail (nullMX)', cause: 'null_mx' } },
    { name: 'C29: null MX from an insecure zone also bounces', result: answered('insecure', [mx(0, '')]),
      want: { kind: 'bounce', dsn: '5.1.10', diagnostic: 'Domain example.com does not accept mail (nullMX)', cause: 'null_mx' } },
    { name: 'a "." among real MX records is ignored', result: answered('insecure', [mx(0, '.'), mx(10, 'mx.example.com')]),
      want: { kind: 'hosts', route: 'mx', mxSecure: false, hosts: [{ host: 'mx.example.com', preference: 10 }] } },
    { name: 'secure MX RRset: sorted by preference', result: answered('secure', [mx(20, 'b.example.com.'), mx(10, 'A.example.com')]),
      want: { kind: 'hosts', route: 'mx', mxSecure: true, hosts: [{ host: 'a.example.com', preference: 10 }, { host: 'b.example.com', preference: 20 }] } },
    { name: 'duplicate names kept once at the lowest preference', result: answered('secure', [mx(30, 'a.example.com'), mx(10, 'a.example.com'), mx(20, 'b.example.com')]),
      want: { kind: 'hosts', route: 'mx', mxSecure: true, hosts: [{ host: 'a.example.com', preference: 10 }, { host: 'b.example.com', preference: 20 }] } },
  ];
  for (const r of rows) test(r.name, () => assert.deepEqual(planMx('example.com', r.result, seq([0])), r.want));
});

describe('sortMx', () => {
  test('equal preferences are shuffled, lower preferences always first', () => {
    const records = [mx(10, 'a.x'), mx(10, 'b.x'), mx(10, 'c.x'), mx(5, 'first.x'), mx(50, 'last.x')];
    const seen = new Set<string>();
    for (const r of [0, 0.34, 0.67, 0.99]) {
      for (const r2 of [0, 0.5, 0.99]) {
        const out = sortMx(records, seq([r, r2])).map((h) => h.host);
        assert.equal(out[0], 'first.x');
        assert.equal(out[4], 'last.x');
        assert.deepEqual(out.slice(1, 4).sort(), ['a.x', 'b.x', 'c.x']);
        seen.add(out.slice(1, 4).join(','));
      }
    }
    assert.ok(seen.size > 1, 'different random values give different orders');
  });
  test('isNullMx only for exactly one root exchange', () => {
    assert.equal(isNullMx([mx(0, '.')]), true);
    assert.equal(isNullMx([mx(0, '.'), mx(0, '.')]), false);
    assert.equal(isNullMx([mx(0, 'mx.x')]), false);
    assert.equal(isNullMx([]), false);
  });
});

describe('orderAddresses and limits', () => {
  const addrs: FamilyAddress[] = [
    { address: '2001:db8::1', family: 6 }, { address: '192.0.2.1', family: 4 }, { address: '192.0.2.2', family: 4 },
  ];
  test('ipv4 preference puts IPv4 first, keeping order within a family', () => {
    assert.deepEqual(orderAddresses(addrs, 'ipv4').map((a) => a.address), ['192.0.2.1', '192.0.2.2', '2001:db8::1']);
  });
  test('ipv6 preference puts IPv6 first', () => {
    assert.deepEqual(orderAddresses(addrs, 'ipv6').map((a) => a.address), ['2001:db8::1', '192.0.2.1', '192.0.2.2']);
  });
  test('any preference is a permutation', () => {
    assert.deepEqual(orderAddresses(addrs, 'any', seq([0.1, 0.9])).map((a) => a.address).sort(), addrs.map((a) => a.address).sort());
  });
  test('address limit truncates; 0 means no limit', () => {
    assert.deepEqual(limitTargets([1, 2, 3, 4], 2), [1, 2]);
    assert.deepEqual(limitTargets([1, 2, 3], 0), [1, 2, 3]);
  });
});
