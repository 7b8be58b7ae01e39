import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classifyCause } from '../../../src/tools/report/cause.ts';
import { field, parseLine } from '../../../src/tools/report/event.ts';
import { ReportAccumulator, DEFAULT_LIMITS } from '../../../src/tools/report/summary.ts';
import { TimeSeries } from '../../../src/tools/report/timeseries.ts';
import { renderHtml, escapeHtml } from '../../../src/tools/report/render-html.ts';
import { renderText } from '../../../src/tools/report/render-text.ts';
import { EXPECTED, syntheticLog, summariseText, T0 } from './fixture.ts';

const summarise = summariseText;

describe('report: cause classification (C30 audit of refusals)', () => {
  const cases: Array<[string | undefined, string, string]> = [
    ['4.7.5', 'Server certificate not verified', 'tlsa_mismatch'],
    ['4.7.5', 'TLSA lookup error for mx.example.com:25', 'tlsa_lookup_failure'],
    ['4.7.4', 'TLS is required, but was not offered by host mx[192.0.2.1]', 'starttls_missing'],
    [undefined, 'TLS is required, but was not offered by host mx[192.0.2.1]', 'starttls_missing'],
    ['4.7.5', 'Cannot start TLS: handshake failure', 'tls_failure'],
    ['4.4.3', 'Name service error for name=x type=MX: Host not found, try again', 'dns_failure'],
    ['4.4.1', 'connect to mx[192.0.2.1]:25: Connection refused', 'connection_failure'],
    ['5.4.4', 'Host or domain name not found. Name service error for name=mx type=A', 'dns_failure'],
    ['5.1.10', 'Domain x does not accept mail (nullMX)', 'null_mx'],
    ['5.1.2', 'Host or domain name not found', 'no_such_domain'],
    ['5.7.1', 'said: 550 5.7.1 rejected', 'remote_reject'],
    ['4.2.0', 'said: 421 try later', 'remote_tempfail'],
    [undefined, 'something else', 'other'],
  ];
  for (const [dsn, text, cause] of cases) {
    test(`${dsn ?? '(no dsn)'} + "${text.slice(0, 30)}" -> ${cause}`, () => assert.equal(classifyCause(dsn, text), cause));
  }
});

describe('report: event parsing', () => {
  test('dotted keys and nested objects are both accepted', () => {
    assert.equal(field({ 'tls.state': 'Verified' }, 'tls.state'), 'Verified');
    assert.equal(field({ tls: { state: 'Trusted' } }, 'tls.state'), 'Trusted');
    assert.equal(field({ tls: 'x' }, 'tls.state'), undefined);
  });
  test('foreign, non-JSON and broken lines are not events and never throw', () => {
    for (const l of ['', 'x', '[1]', 'null', '{"a":1}', '{"event":"nope"}', '{bad', '{"event":"tls","tls":null}'.slice(0, 12)]) {
      assert.equal(parseLine(l), undefined, l);
    }
    assert.equal(parseLine('{"event":"tls","tls":null}')?.kind, 'tls');
  });
  test('ISO string time is accepted', () => {
    assert.equal(parseLine('{"event":"accepted","time":"2026-11-01T00:00:00Z"}')?.time, T0);
  });
});

describe('report: summary of the synthetic log', () => {
  const d = summarise(syntheticLog());
  test('line, event and skipped counts; time range', () => {
    assert.equal(d.lines, EXPECTED.lines);
    assert.equal(d.events, EXPECTED.events);
    assert.equal(d.skipped, EXPECTED.skipped);
    assert.deepEqual(d.range, EXPECTED.range);
  });
  test('messages and recipients by status (a recipient deferred then sent counts in both; a message once per status)', () => {
    assert.equal(d.messages.accepted, EXPECTED.accepted);
    assert.equal(d.messages.bytes, EXPECTED.bytes);
    assert.equal(d.messages.recipients, EXPECTED.acceptedRecipients);
    assert.deepEqual(d.recipients, EXPECTED.recipients);
    assert.deepEqual(d.messages.byStatus, EXPECTED.messages);
    assert.equal(d.messages.approximate, false);
  });
  test('deliveries by TLS state (recipients sent), TLS sessions separately, and DANE results', () => {
    assert.deepEqual(d.tls.deliveries, EXPECTED.deliveries);
    assert.deepEqual(d.tls.sessions, EXPECTED.sessions);
    assert.deepEqual(d.tls.dane, EXPECTED.dane);
  });
  test('top domains with their states', () => {
    assert.equal(d.domains.distinct, EXPECTED.distinctDomains);
    assert.equal(d.domains.top.length, 10);
    const broken = d.domains.top[0];
    assert.equal(broken?.domain, 'broken.test');
    assert.deepEqual(broken?.status, { sent: 1, deferred: 1, bounced: 0, expired: 0 });
    assert.equal(broken?.tls.Trusted, 1);
    assert.equal(d.domains.top.find((r) => r.domain === 'plain.test')?.tls.none, 1);
    // a bounce over a Verified session is not a delivery: per-domain TLS columns count recipients sent
    assert.equal(d.domains.top.find((r) => r.domain === 'reject.test')?.tls.Verified, 0);
  });
  test('C16/C4/C14/C29: refusals grouped by cause with counts and bounded examples', () => {
    assert.deepEqual(d.refusals.map((r) => [r.cause, r.hostsSkipped, r.deferred, r.bounced]), EXPECTED.refusals);
    const mismatch = d.refusals[0];
    assert.equal(mismatch?.examples.length, 3);
    assert.equal(mismatch?.examples[0]?.mx, 'mx1.broken.test');
    const small = summarise(syntheticLog(), {}, { ...DEFAULT_LIMITS, maxExamples: 1 });
    assert.ok(small.refusals.every((r) => r.examples.length <= 1));
  });
  test('filters: time window [since, until) and domain', () => {
    const w = summarise(syntheticLog(), { since: T0 + 10 * EXPECTED.minute, until: T0 + 20 * EXPECTED.minute });
    assert.equal(w.events, 10);
    assert.deepEqual(w.recipients, { sent: 1, deferred: 3, bounced: 2, expired: 0 });
    const b = summarise(syntheticLog(), { domain: 'BROKEN.test' });
    assert.equal(b.events, 5);
    assert.deepEqual(b.refusals.map((r) => [r.cause, r.hostsSkipped, r.deferred]), [['tlsa_mismatch', 2, 1]]);
    assert.equal(b.tls.sessions.Trusted, 1);
  });
  test('bounded tables: domains fold into (other), qid window marks messages approximate', () => {
    const s = summarise(syntheticLog(), {}, { ...DEFAULT_LIMITS, maxDomains: 3, maxTrackedQids: 2 });
    assert.equal(s.domains.approximate, true);
    assert.equal(s.domains.distinct, 4);
    assert.equal(s.domains.top.reduce((n, r) => n + r.total, 0), 12);
    assert.equal(s.messages.approximate, true);
  });
  test('text and HTML renderings carry the tables; HTML escapes log content and loads nothing external', () => {
    const text = renderText(d);
    assert.match(text, /TLSA mismatch \(server certificate not verified\)\s+2\s+1\s+0/);
    assert.match(text, /Verified\s+2/);
    const html = renderHtml(d);
    assert.match(html, /<svg[^>]*>.*<rect/s);
    assert.match(html, /<caption>Refusals to deliver by cause<\/caption>/);
    assert.ok(!html.includes('<script>alert'), 'log text must be escaped');
    assert.ok(html.includes(escapeHtml('<script>alert(1)</script>')));
    assert.doesNotMatch(html, /<script|<link|src=|url\(|@import|https?:/i);
  });
});

test('text output strips control characters from log content (terminal escape injection)', () => {
  const line = JSON.stringify({ event: 'host-skipped', time: T0, domain: 'x.test', dsn: '4.7.5', reason: 'Server certificate not verified \u001b[2J\u001b]0;pwned\u0007' });
  const text = renderText(summarise(line + '\n'));
  assert.match(text, /Server certificate not verified \?\[2J\?\]0;pwned\?/);
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f]/);
});

test('time series: bounded buckets, counts preserved when coarsening', () => {
  const ts = new TimeSeries(8, 1000);
  for (let i = 0; i < 1000; i++) ts.add(T0 + i * 1000, i % 2 === 0 ? 'Verified' : 'none');
  const snap = ts.snapshot(5);
  assert.ok(snap.buckets.length <= 5);
  assert.equal(snap.buckets.reduce((n, b) => n + b.counts.Verified + b.counts.none, 0), 1000);
});
