/**
 * Metrics after a lab run: the counters fed by the relay's log events move
 * exactly as the run's observed outcomes imply (issue: running it for real).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLab } from '../../src/lab/lab-runner.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { allScenarios } from '../../src/lab/scenarios.ts';

function value(text: string, line: string): number {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m === undefined ? 0 : Number(m.slice(line.length + 1));
}

test('metrics after the full lab matrix: recipients by status and Verified sessions match the observed outcomes', async () => {
  const metrics = createMetrics();
  const results = await runLab({
    // REQUIRETLS scenarios open Verified sessions that carry nothing by design (the host is refused
    // after its EHLO, RFC 8689), so the one-Verified-session-per-delivery count below leaves them out.
    scenarios: allScenarios().filter((s) => !s.submit?.requireTls),
    timeoutMs: 60_000,
    onLogLine: (line) => {
      try { metrics.observe(JSON.parse(line) as Record<string, unknown>); } catch { /* not JSON */ }
    },
  });
  assert.ok(results.length >= 25);
  const text = await metrics.registry.metrics();
  const count = (status: string) => results.filter((r) => r.observation.outcome?.status === status).length;
  for (const status of ['sent', 'deferred', 'bounced']) {
    assert.equal(value(text, `dane_relay_recipients_total{status="${status}"}`), count(status), `recipients ${status}`);
  }
  const verifiedSent = results.filter((r) => r.observation.outcome?.status === 'sent' && r.observation.outcome.tlsState === 'Verified').length;
  assert.ok(verifiedSent > 10);
  assert.equal(value(text, 'dane_relay_tls_sessions_total{state="Verified",level="dane"}'), verifiedSent);
  const mismatches = results.filter((r) => r.observation.outcome?.status === 'deferred' && /certificate not verified/i.test(r.observation.outcome.detail ?? '')).length;
  assert.ok(mismatches > 0);
  assert.ok(value(text, 'dane_relay_deliveries_refused_total{cause="tlsa_mismatch"}') >= mismatches);
  assert.ok(value(text, 'dane_relay_deliveries_refused_total{cause="starttls_missing"}') > 0);
  assert.ok(value(text, 'dane_relay_messages_accepted_total') >= results.length);
});
