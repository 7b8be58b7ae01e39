/**
 * DNS client against the lab resolver on 127.0.0.1: result kinds, trust of the
 * AD bit, CNAME chains, caching and in-flight sharing (C1, C5, C6, C7, C11).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLabResolver, type LabResolver, type LabZone } from '../../src/lab/lab-resolver.ts';
import type { DnsClient } from '../../src/dns/client.ts';
import { fakeClock, testClient } from './helpers.ts';

const CERT = Buffer.alloc(32, 0xab);
const chainZone = (n: number): LabZone['records'] =>
  Array.from({ length: n }, (_, i) => ({ name: `c${i}.chain.test`, type: 'CNAME' as const, data: `c${i + 1}.chain.test` }))
    .concat([{ name: `c${n}.chain.test`, type: 'A' as const, data: '127.0.0.8' } as never]);

const zones: LabZone[] = [
  {
    origin: 'example.com', signed: true,
    records: [
      { name: 'example.com', type: 'SOA', ttl: 300, data: { mname: 'ns.example.com', rname: 'h.example.com', minimum: 60 } },
      { name: 'example.com', type: 'MX', ttl: 60, data: { preference: 10, exchange: 'MX.Example.com' } },
      { name: 'mx.example.com', type: 'A', ttl: 7200, data: '127.0.0.2' },
      { name: '_25._tcp.mx.example.com', type: 'TLSA', data: { usage: 3, selector: 1, matchingType: 1, certificate: CERT } },
      { name: 'alias.example.com', type: 'CNAME', ttl: 30, data: 'mx.example.com' },
      { name: 'out.example.com', type: 'CNAME', data: 'host.plain.test' },
      { name: 'tobogus.example.com', type: 'CNAME', data: 'x.bogus.test' },
      { name: 'loop1.example.com', type: 'CNAME', data: 'loop2.example.com' },
      { name: 'loop2.example.com', type: 'CNAME', data: 'loop1.example.com' },
    ],
    drop: [{ name: 'dropped.example.com', type: 'A' }],
  },
  { origin: 'plain.test', signed: false, records: [{ name: 'host.plain.test', type: 'A', data: '127.0.0.4' }] },
  { origin: 'bogus.test', signed: true, bogus: true, records: [{ name: 'x.bogus.test', type: 'A', data: '127.0.0.5' }] },
  { origin: 'chain.test', signed: true, records: chainZone(12) },
  { origin: 'mail', signed: true, records: [{ name: 'mail', type: 'A', data: '127.0.0.7' }] },
];

describe('DNS client against the lab resolver', () => {
  let lab: LabResolver;
  let client: DnsClient;
  before(async () => { lab = await startLabResolver({ zones }); client = testClient([lab]); });
  after(async () => { await client.close(); await lab.close(); });

  test('C1/C5: secure, insecure, NXDOMAIN and NODATA with and without AD', async () => {
    const table: Array<[string, 'A' | 'AAAA' | 'MX' | 'TLSA', string, boolean | undefined]> = [
      ['example.com', 'MX', 'secure', undefined],
      ['host.plain.test', 'A', 'insecure', undefined],
      ['nope.example.com', 'A', 'nxdomain', true],
      ['nope.plain.test', 'A', 'nxdomain', false],
      ['mx.example.com', 'AAAA', 'nodata', true],
      ['host.plain.test', 'TLSA', 'nodata', false],
      ['_25._tcp.host.plain.test', 'TLSA', 'nxdomain', false],
      ['no.zone.anywhere', 'A', 'nxdomain', false],
    ];
    for (const [name, type, kind, secure] of table) {
      const r = await client.lookup(name, type);
      assert.equal(r.kind, kind, `${name} ${type}`);
      if (secure !== undefined) assert.equal((r as { secure: boolean }).secure, secure, `${name} ${type} secure`);
    }
  });

  test('records come back typed, lower case, no trailing dot, with TTL', async () => {
    const mx = await client.lookup('Example.COM.', 'MX');
    assert.equal(mx.kind, 'secure');
    if (mx.kind !== 'secure') return;
    assert.equal(mx.qname, 'example.com');
    assert.deepEqual(mx.records, [{ type: 'MX', name: 'example.com', ttl: 60, preference: 10, exchange: 'mx.example.com' }]);
    const t = await client.lookup('_25._tcp.mx.example.com', 'TLSA');
    assert.equal(t.kind, 'secure');
    if (t.kind !== 'secure') return;
    const rec = t.records[0]!;
    assert.deepEqual([rec.usage, rec.selector, rec.matchingType], [3, 1, 1]);
    assert.ok(rec.data instanceof Uint8Array);
    assert.deepEqual(Buffer.from(rec.data), CERT);
  });

  test('C1: SERVFAIL (bogus zone) is a failure naming the server, never insecure', async () => {
    const r = await client.lookup('x.bogus.test', 'A');
    assert.equal(r.kind, 'failure');
    if (r.kind !== 'failure') return;
    assert.equal(r.reason, 'servfail');
    assert.match(r.detail, new RegExp(lab.address.replace(/\./g, '\\.')));
  });

  test('C11: CNAME chain all signed → secure, links and canonical name reported', async () => {
    const r = await client.lookup('alias.example.com', 'A');
    assert.equal(r.kind, 'secure');
    if (r.kind !== 'secure') return;
    assert.equal(r.canonicalName, 'mx.example.com');
    assert.deepEqual(r.cnames.map((c) => [c.name, c.target]), [['alias.example.com', 'mx.example.com']]);
    assert.equal(r.records[0]?.address, '127.0.0.2');
  });

  test('C11: a CNAME chain with an insecure link is insecure (RFC 7672 §2.2.3)', async () => {
    const r = await client.lookup('out.example.com', 'A');
    assert.equal(r.kind, 'insecure');
  });

  test('C1: a CNAME chain ending in a bogus zone is a failure', async () => {
    const r = await client.lookup('tobogus.example.com', 'A');
    assert.equal(r.kind, 'failure');
  });

  test('CNAME loop → failure cname-loop; chain over 8 links → failure cname-limit; 8 links is fine', async () => {
    const loop = await client.lookup('loop1.example.com', 'A');
    assert.equal(loop.kind === 'failure' && loop.reason, 'cname-loop');
    const long = await client.lookup('c0.chain.test', 'A');
    assert.equal(long.kind === 'failure' && long.reason, 'cname-limit');
    const ok = await client.lookup('c4.chain.test', 'A'); // c4 → … → c12: 8 links
    assert.equal(ok.kind, 'secure');
    assert.equal(ok.kind === 'secure' && ok.cnames.length, 8);
  });

  test('C7: a single-label name is asked as the absolute name, no search list', async () => {
    lab.resetCounters();
    const r = await client.lookup('mail', 'A');
    assert.equal(r.kind, 'secure');
    assert.deepEqual(lab.queries().map((q) => q.name), ['mail']);
  });

  test('an invalid name is a failure, not an exception', async () => {
    const r = await client.lookup('a..b', 'A');
    assert.equal(r.kind === 'failure' && r.reason, 'malformed');
  });

  test('stats count lookups per type and result kind', async () => {
    const c = testClient([lab]);
    try {
      await c.lookup('example.com', 'MX');
      await c.lookup('example.com', 'MX');
      await c.lookup('x.bogus.test', 'A');
      const s = c.stats();
      assert.equal(s.cacheMisses, 2);
      assert.equal(s.cacheHits, 1);
      assert.deepEqual(s.byType.MX, { queries: 2, secure: 2, insecure: 0, nxdomain: 0, nodata: 0, failure: 0 });
      assert.equal(s.byType.A?.failure, 1);
    } finally { await c.close(); }
  });
});

describe('C6: trust of the AD bit', () => {
  let lab: LabResolver;
  before(async () => { lab = await startLabResolver({ zones }); });
  after(async () => { await lab.close(); });

  test('C6: AD from a resolver outside trustedNetworks is ignored', async () => {
    const c = testClient([lab], { trustedNetworks: ['10.0.0.0/8'] });
    try {
      assert.equal((await c.lookup('example.com', 'MX')).kind, 'insecure');
      const nx = await c.lookup('nope.example.com', 'A');
      assert.equal(nx.kind === 'nxdomain' && nx.secure, false);
      const nd = await c.lookup('mx.example.com', 'AAAA');
      assert.equal(nd.kind === 'nodata' && nd.secure, false);
      assert.match(c.describeTrust(), /WARNING.*127\.0\.0\.1:\d+.*ignored/);
    } finally { await c.close(); }
  });

  test('C6: loopback is trusted by default and describeTrust says so', async () => {
    const c = testClient([lab]);
    try {
      assert.doesNotMatch(c.describeTrust(), /WARNING/);
      assert.match(c.describeTrust(), /AD bit trusted from 127\.0\.0\.1/);
    } finally { await c.close(); }
  });

  test('C6: a non-validating resolver (AD never set) gives insecure answers', async () => {
    lab.setValidating(false);
    const c = testClient([lab]);
    try {
      assert.equal((await c.lookup('example.com', 'MX')).kind, 'insecure');
    } finally { lab.setValidating(true); await c.close(); }
  });

  test('C6: IPv6 loopback resolver [::1] is reachable and trusted', async () => {
    const lab6 = await startLabResolver({ zones, host: '::1' });
    const c = testClient([{ host: '::1', port: lab6.port }]);
    try {
      assert.equal((await c.lookup('example.com', 'MX')).kind, 'secure');
    } finally { await c.close(); await lab6.close(); }
  });
});

describe('cache and in-flight sharing', () => {
  let lab: LabResolver;
  before(async () => { lab = await startLabResolver({ zones }); });
  after(async () => { await lab.close(); });

  test('a burst of 50 identical concurrent lookups sends one query', async () => {
    const c = testClient([lab]);
    lab.resetCounters();
    try {
      const results = await Promise.all(Array.from({ length: 50 }, () => c.lookup('example.com', 'MX')));
      assert.equal(lab.queryCount(), 1);
      assert.equal(c.stats().queriesSent, 1);
      assert.ok(results.every((r) => r.kind === 'secure'));
    } finally { await c.close(); }
  });

  test('positive answers live for their TTL (min over records and CNAMEs), capped by maxTtlSeconds', async () => {
    const clock = fakeClock();
    const c = testClient([lab], { now: clock.now, cache: { maxEntries: 100, maxTtlSeconds: 100, failureTtlSeconds: 5, negativeMaxTtlSeconds: 900 } });
    lab.resetCounters();
    try {
      await c.lookup('example.com', 'MX');              // TTL 60
      await c.lookup('mx.example.com', 'A');            // TTL 7200, capped at 100
      await c.lookup('alias.example.com', 'A');         // CNAME TTL 30, A 7200 → 30
      assert.equal(lab.queryCount(), 3);
      clock.advance(29);
      for (const [n, t] of [['example.com', 'MX'], ['mx.example.com', 'A'], ['alias.example.com', 'A']] as const) await c.lookup(n, t);
      assert.equal(lab.queryCount(), 3, 'all cached at 29 s');
      clock.advance(2);                                  // 31 s: alias expired
      await c.lookup('alias.example.com', 'A');
      await c.lookup('example.com', 'MX');
      assert.equal(lab.queryCount(), 4);
      clock.advance(30);                                 // 61 s: MX expired
      await c.lookup('example.com', 'MX');
      await c.lookup('mx.example.com', 'A');
      assert.equal(lab.queryCount(), 5);
      clock.advance(40);                                 // 101 s: the capped A expired
      await c.lookup('mx.example.com', 'A');
      assert.equal(lab.queryCount(), 6);
    } finally { await c.close(); }
  });

  test('RFC 2308: NXDOMAIN/NODATA cached for min(SOA TTL, SOA minimum)', async () => {
    const clock = fakeClock();
    const c = testClient([lab], { now: clock.now });
    lab.resetCounters();
    try {
      await c.lookup('nope.example.com', 'A');   // SOA ttl 300, minimum 60 → 60 s
      await c.lookup('mx.example.com', 'AAAA');
      clock.advance(59);
      await c.lookup('nope.example.com', 'A');
      await c.lookup('mx.example.com', 'AAAA');
      assert.equal(lab.queryCount(), 2);
      clock.advance(2);
      await c.lookup('nope.example.com', 'A');
      await c.lookup('mx.example.com', 'AAAA');
      assert.equal(lab.queryCount(), 4);
    } finally { await c.close(); }
  });

  test('failures are cached briefly (failureTtlSeconds), never beyond 30 s', async () => {
    const clock = fakeClock();
    const c = testClient([lab], { now: clock.now, cache: { maxEntries: 100, maxTtlSeconds: 3600, failureTtlSeconds: 300, negativeMaxTtlSeconds: 900 } });
    lab.resetCounters();
    try {
      await c.lookup('x.bogus.test', 'A');
      clock.advance(29);
      await c.lookup('x.bogus.test', 'A');
      assert.equal(lab.queryCount(), 1, 'cached at 29 s');
      clock.advance(2);
      await c.lookup('x.bogus.test', 'A');
      assert.equal(lab.queryCount(), 2, 'expired at 31 s despite failureTtlSeconds 300');
    } finally { await c.close(); }
  });

  test('clearCache forgets everything; maxEntries bounds the cache', async () => {
    const c = testClient([lab], { cache: { maxEntries: 1, maxTtlSeconds: 3600, failureTtlSeconds: 5, negativeMaxTtlSeconds: 900 } });
    lab.resetCounters();
    try {
      await c.lookup('example.com', 'MX');
      await c.lookup('mx.example.com', 'A');      // evicts the MX
      await c.lookup('example.com', 'MX');
      assert.equal(lab.queryCount(), 3);
      c.clearCache();
      await c.lookup('example.com', 'MX');
      assert.equal(lab.queryCount(), 4);
    } finally { await c.close(); }
  });

  test('close() ends a lookup in flight as a failure, promptly', async () => {
    const c = testClient([lab], { timeoutMs: 60_000 });
    const p = c.lookup('dropped.example.com', 'A');
    await new Promise((r) => setTimeout(r, 20));
    await c.close();
    const r = await p;
    assert.equal(r.kind === 'failure' && r.reason, 'network');
  });
});
