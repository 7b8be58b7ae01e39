import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, refusalCause } from '../../src/metrics/metrics.ts';
import { startMetricsServer } from '../../src/metrics/http.ts';

function value(text: string, line: string): number | undefined {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
}

test('metrics: log events move the counters (dotted and nested fields)', async () => {
  const metrics = createMetrics();
  metrics.observe({ event: 'queued', qid: 'A1', size: 1200 });
  metrics.observe({ event: 'reject', reason: 'relay-denied' });
  metrics.observe({ event: 'queue-outcome', status: 'expired' });
  metrics.observe({ event: 'queue-outcome', status: 'sent' });
  metrics.observe({ event: 'tls', 'tls.state': 'Verified', 'tls.level': 'dane' });
  metrics.observe({ event: 'tls', tls: { state: 'Untrusted', level: 'may' } });
  metrics.observe({ event: 'delivery', status: 'sent', dsn: '2.0.0', delay: 0.2 });
  metrics.observe({ event: 'delivery', status: 'deferred', dsn: '4.7.5', diagnostic: 'Server certificate not verified' });
  metrics.observe({ event: 'host-skipped', dsn: '4.7.5', reason: 'TLSA lookup error for mx.example.com:25' });
  metrics.observe({ event: 'internal-error', kind: 'unhandledRejection' });
  metrics.observe({ event: 'internal-error' });
  metrics.observe({ event: 'something-else' });
  metrics.observe({ event: 'delivery' });
  metrics.setProbes({ queue: () => ({ messages: 7, oldestAgeSeconds: 42 }), connections: () => ({ inbound: 2, outbound: 1 }) });
  const text = await metrics.registry.metrics();
  assert.equal(value(text, 'dane_relay_messages_accepted_total'), 1);
  assert.equal(value(text, 'dane_relay_messages_accepted_bytes_total'), 1200);
  assert.equal(value(text, 'dane_relay_tls_sessions_total{state="Verified",level="dane"}'), 1);
  assert.equal(value(text, 'dane_relay_tls_sessions_total{state="Untrusted",level="may"}'), 1);
  assert.equal(value(text, 'dane_relay_recipients_total{status="sent"}'), 1);
  assert.equal(value(text, 'dane_relay_recipients_total{status="deferred"}'), 1);
  assert.equal(value(text, 'dane_relay_recipients_total{status="expired"}'), 1);
  assert.equal(value(text, 'dane_relay_messages_rejected_total{reason="relay-denied"}'), 1);
  assert.equal(value(text, 'dane_relay_deliveries_refused_total{cause="tlsa_mismatch"}'), 1);
  assert.equal(value(text, 'dane_relay_deliveries_refused_total{cause="tlsa_lookup_failure"}'), 1);
  assert.equal(value(text, 'dane_relay_internal_errors_total{kind="unhandledRejection"}'), 1);
  assert.equal(value(text, 'dane_relay_internal_errors_total{kind="session"}'), 1);
  assert.equal(value(text, 'dane_relay_queue_messages'), 7);
  assert.equal(value(text, 'dane_relay_queue_oldest_message_age_seconds'), 42);
  assert.equal(value(text, 'dane_relay_open_connections{direction="inbound"}'), 2);
});

test('metrics: refusal causes follow the DSN and Postfix wording', () => {
  const table: Array<[string, string, string]> = [
    ['4.7.5', 'Server certificate not verified', 'tlsa_mismatch'],
    ['4.7.5', 'TLSA lookup error for mx.example.com:25', 'tlsa_lookup_failure'],
    ['4.7.4', 'TLS is required, but was not offered by host mx[127.0.0.2]', 'starttls_missing'],
    ['4.4.3', 'Host or domain name not found', 'dns_failure'],
    ['5.1.10', 'null MX', 'null_mx'],
    ['5.1.2', 'Host or domain name not found', 'no_such_domain'],
    ['5.1.1', 'host said: 550 no such user', 'remote_reject'],
    ['4.2.0', 'host said: 451 try later', 'remote_tempfail'],
  ];
  for (const [dsn, text, cause] of table) assert.equal(refusalCause(dsn, text), cause, `${dsn} ${text}`);
});

test('metrics http: /metrics serves the registry, /healthz flips with its checks, loopback only', async () => {
  const metrics = createMetrics();
  let dnssecOk = true;
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metrics.registry, [
    { name: 'dnssec', check: async () => (dnssecOk ? null : 'resolver does not validate') },
  ]);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /dane_relay_up 1/);
    const h1 = await fetch(`${base}/healthz`);
    assert.equal(h1.status, 200);
    dnssecOk = false;
    const h2 = await fetch(`${base}/healthz`);
    assert.equal(h2.status, 503);
    assert.deepEqual(((await h2.json()) as { failures: unknown }).failures, { dnssec: 'resolver does not validate' });
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});
