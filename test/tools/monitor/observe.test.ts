/**
 * monitor/observe: what counts as a change, and the warnings ahead of time,
 * as truth tables (pure; the clock is passed in).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeChange, diffObservation, observe, type Observation } from '../../../src/tools/monitor/observe.ts';
import { renderMetrics } from '../../../src/tools/monitor/alerts.ts';
import type { DomainReport } from '../../../src/tools/check/types.ts';

const now = new Date('2026-12-01T00:00:00Z');
const obs = (verdict: Observation['verdict'], reason: string | null = null, warnings: Observation['warnings'] = []): Observation =>
  ({ target: 'example.org', verdict, reason, warnings, checkedAt: now.toISOString() });
const w = (subject: string) => ({ kind: 'cert-expiry' as const, subject, message: `m ${subject}` });

test('changes only: the same state twice is silent; verdict, reason while failing and warnings are changes', () => {
  const rows: Array<{ name: string; prev: Observation | undefined; cur: Observation; kinds: string[] }> = [
    { name: 'first sight, pass: nothing to say', prev: undefined, cur: obs('pass'), kinds: [] },
    { name: 'first sight, fail: reported', prev: undefined, cur: obs('fail', 'x'), kinds: ['verdict'] },
    { name: 'pass → pass', prev: obs('pass'), cur: obs('pass'), kinds: [] },
    { name: 'fail → fail, same reason', prev: obs('fail', 'x'), cur: obs('fail', 'x'), kinds: [] },
    { name: 'fail → fail, new reason', prev: obs('fail', 'x'), cur: obs('fail', 'y'), kinds: ['reason'] },
    { name: 'pass → fail', prev: obs('pass'), cur: obs('fail', 'x'), kinds: ['verdict'] },
    { name: 'fail → pass', prev: obs('fail', 'x'), cur: obs('pass'), kinds: ['verdict'] },
    { name: 'warning appears', prev: obs('pass'), cur: obs('pass', null, [w('a')]), kinds: ['warning'] },
    { name: 'warning stays', prev: obs('pass', null, [w('a')]), cur: obs('pass', null, [w('a')]), kinds: [] },
    { name: 'warning cleared, another appears', prev: obs('pass', null, [w('a')]), cur: obs('pass', null, [w('b')]), kinds: ['warning', 'cleared'] },
  ];
  for (const r of rows) assert.deepEqual(diffObservation(r.prev, r.cur).map((c) => c.kind), r.kinds, r.name);
  assert.equal(describeChange(diffObservation(obs('pass'), obs('fail', 'Server certificate not verified'))[0]!), 'example.org: PASS -> FAIL: Server certificate not verified');
});

function report(notAfter: string): DomainReport {
  const cert = { depth: 0, subject: 'CN=mx', issuer: 'CN=mx', notBefore: null, notAfter, sha256: '00', marks: [] };
  return {
    domain: 'example.org', nextHop: 'example.org', verdict: 'pass', reason: null, dsn: null, deliverVia: 'mx', notes: [], policy: null,
    mx: { route: 'mx', dnssec: 'secure', records: [] },
    hosts: [{ host: 'mx.example.org', preference: 10, port: 25, addresses: { list: ['192.0.2.1'], secure: true }, policy: null, skipped: null,
      tlsa: { status: 'records', dnssec: 'secure', owner: '_25._tcp.mx.example.org', base: 'mx.example.org', records: [] },
      connections: [{ ip: '192.0.2.1', port: 25, verdict: 'pass', reason: null, dsn: null, detail: null, sni: null, tls: null, state: 'Verified', feature: 'dane', matched: null, chain: { source: 'session', certificates: [cert] }, plaintextFallback: false, injectionBytes: 0 }] }],
  };
}

test('warnings ahead of time: certificate within N days, RRSIG within N days, RRSIG lookup failure (never "unsigned", C1)', () => {
  const t = { certDays: 14, rrsigDays: 3 };
  assert.deepEqual(observe(report('2026-12-20T00:00:00Z'), { rrsigs: [] }, t, now).warnings, []);
  const soon = observe(report('2026-12-10T00:00:00Z'), { rrsigs: [] }, t, now).warnings;
  assert.equal(soon.length, 1);
  assert.match(soon[0]?.message ?? '', /expires in 9 day\(s\)/);
  assert.match(observe(report('2026-11-30T00:00:00Z'), { rrsigs: [] }, t, now).warnings[0]?.message ?? '', /expired on/);
  const rrsigs = [
    { kind: 'signed' as const, name: 'example.org', type: 'MX', expires: new Date('2026-12-03T00:00:00Z'), signer: 'example.org' },
    { kind: 'signed' as const, name: '_25._tcp.mx.example.org', type: 'TLSA', expires: new Date('2026-12-30T00:00:00Z'), signer: 'example.org' },
    { kind: 'none' as const, name: 'x', type: 'MX' },
    { kind: 'failure' as const, name: 'y', type: 'TLSA', detail: 'answered SERVFAIL' },
  ];
  const ws = observe(report('2027-06-01T00:00:00Z'), { rrsigs }, t, now).warnings;
  assert.deepEqual(ws.map((x) => `${x.kind} ${x.subject}`), ['rrsig-expiry example.org MX', 'rrsig-lookup y TLSA']);
  const staged = observe(report('2027-06-01T00:00:00Z'), { rrsigs: [], staged: { file: 'next.pem', matched: false, detail: 'no TLSA record matched' } }, t, now).warnings;
  assert.deepEqual(staged.map((x) => x.kind), ['staged-mismatch']);
});

test('Prometheus textfile: one verdict gauge per target, warnings per kind, label values escaped', () => {
  const text = renderMetrics([obs('fail', 'x', [w('a')]), { ...obs('pass'), target: 'https://a"b:443' }], now);
  assert.match(text, /^dane_relay_monitor_verdict\{target="example.org"\} 2$/m);
  assert.match(text, /^dane_relay_monitor_warnings\{target="example.org",kind="cert-expiry"\} 1$/m);
  assert.match(text, /^dane_relay_monitor_verdict\{target="https:\/\/a\\"b:443"\} 0$/m);
  assert.match(text, /^dane_relay_monitor_last_run_timestamp_seconds 1796083200$/m);
});
