import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/metrics/metrics.ts';
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
  metrics.observe({ event: 'delivery', status: 'deferred', dsn: '4.7.5', cause: 'tlsa_mismatch', diagnostic: 'Server certificate not verified' });
  metrics.observe({ event: 'host-skipped', dsn: '4.7.5', cause: 'tlsa_lookup_failure', reason: 'TLSA lookup error for mx.example.com:25' });
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
  assert.equal(value(text, 'dane_relay_hosts_skipped_total{cause="tlsa_lookup_failure"}'), 1);
  assert.equal(value(text, 'dane_relay_internal_errors_total{kind="unhandledRejection"}'), 1);
  assert.equal(value(text, 'dane_relay_internal_errors_total{kind="session"}'), 1);
  assert.equal(value(text, 'dane_relay_queue_messages'), 7);
  assert.equal(value(text, 'dane_relay_queue_oldest_message_age_seconds'), 42);
  assert.equal(value(text, 'dane_relay_open_connections{direction="inbound"}'), 2);
});

test('metrics: causes come from the typed field, never the text; each attempt counted once (hosts and recipients apart)', async () => {
  const metrics = createMetrics();
  // one host with a TLSA mismatch: its TLS session, the host not used, then the recipient deferred
  metrics.observe({ event: 'tls', tls: { state: 'Untrusted', level: 'dane' }, dane: { result: 'ok' } });
  metrics.observe({ event: 'host-skipped', dsn: '4.7.5', reason: 'TLSA lookup error for x:25 (misleading text)', cause: 'tlsa_mismatch', dane: { result: 'ok' } });
  metrics.observe({ event: 'delivery', status: 'deferred', dsn: '4.7.5', cause: 'tlsa_mismatch', msg: 'status=deferred (Server certificate not verified)' });
  // STARTTLS stripped: no TLS session; one host, one recipient
  metrics.observe({ event: 'host-skipped', dsn: '4.7.4', cause: 'starttls_missing', dane: { result: 'ok' } });
  metrics.observe({ event: 'delivery', status: 'deferred', dsn: '4.7.4', cause: 'starttls_missing' });
  // TLSA lookup error
  metrics.observe({ event: 'host-skipped', dsn: '4.7.5', cause: 'tlsa_lookup_failure', dane: { result: 'tempfail' } });
  // a Verified delivery and an opportunistic one
  metrics.observe({ event: 'tls', tls: { state: 'Verified', level: 'dane' }, dane: { result: 'ok' } });
  metrics.observe({ event: 'delivery', status: 'sent', dsn: '2.0.0', tls: { state: 'Verified', level: 'dane' } });
  metrics.observe({ event: 'delivery', status: 'sent', dsn: '2.0.0', tls: { state: 'none', level: 'may' } });
  // an event without a typed cause is `other`, whatever its text says
  metrics.observe({ event: 'delivery', status: 'deferred', dsn: '4.7.5', diagnostic: 'Server certificate not verified' });
  const text = await metrics.registry.metrics();
  assert.equal(value(text, 'dane_relay_deliveries_refused_total{cause="tlsa_mismatch"}'), 1);
  assert.equal(value(text, 'dane_relay_deliveries_refused_total{cause="starttls_missing"}'), 1);
  assert.equal(value(text, 'dane_relay_deliveries_refused_total{cause="other"}'), 1);
  assert.equal(value(text, 'dane_relay_hosts_skipped_total{cause="tlsa_mismatch"}'), 1);
  assert.equal(value(text, 'dane_relay_hosts_skipped_total{cause="starttls_missing"}'), 1);
  assert.equal(value(text, 'dane_relay_hosts_skipped_total{cause="tlsa_lookup_failure"}'), 1);
  assert.equal(value(text, 'dane_relay_deliveries_sent_total{tls_state="Verified",tls_level="dane"}'), 1);
  assert.equal(value(text, 'dane_relay_deliveries_sent_total{tls_state="none",tls_level="may"}'), 1);
  assert.equal(value(text, 'dane_relay_dane_results_total{result="mismatch"}'), 1, 'the mismatch counted once, from its session');
  assert.equal(value(text, 'dane_relay_dane_results_total{result="ok"}'), 2, 'the Verified session and the stripped host');
  assert.equal(value(text, 'dane_relay_dane_results_total{result="tempfail"}'), 1);
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
