/**
 * Metrics after the whole lab matrix: every counter the delivery events feed
 * has the exact value the run's observed outcomes imply (issue: metrics that
 * operators' tools read; C30). The refusal causes on the metrics come from the
 * typed `cause` on the events; the oracle here classifies the observed
 * outcomes' DSN and Postfix wording with `report`'s text fallback, so the two
 * paths are independent and must agree exactly, cause by cause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REFUSAL_CAUSES } from '../../src/core/refusal-cause.ts';
import { runLab } from '../../src/lab/lab-runner.ts';
import { allScenarios } from '../../src/lab/scenarios.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { classifyCause } from '../../src/tools/report/cause.ts';

function value(text: string, line: string): number {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m === undefined ? 0 : Number(m.slice(line.length + 1));
}

/** Sum of a counter over every label set whose labels include `match`. */
function sum(text: string, name: string, match = ''): number {
  return text.split('\n').filter((l) => l.startsWith(name + '{') && l.includes(match)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('metrics after the full lab matrix: exact counts by status, TLS state and cause', async () => {
  const metrics = createMetrics();
  const results = await runLab({
    // Left out: the TLS-reporting scenario (its follow-up mails a report through the relay: a delivery that is
    // no scenario's outcome) and the REQUIRETLS ones (their Verified sessions carry nothing by design: the host
    // is refused after its EHLO, RFC 8689), so every count below maps to one scenario outcome.
    scenarios: allScenarios().filter((s) => !s.name.includes('tlsrpt') && !s.submit?.requireTls),
    timeoutMs: 60_000,
    onLogLine: (line) => {
      try { metrics.observe(JSON.parse(line) as Record<string, unknown>); } catch { /* not JSON */ }
    },
  });
  assert.ok(results.length >= 40);
  const text = await metrics.registry.metrics();
  const outcomes = results.map((r) => r.observation.outcome).filter((o) => o !== undefined);
  assert.equal(outcomes.length, results.length, 'every scenario has an outcome');
  const count = (pred: (o: (typeof outcomes)[number]) => boolean): number => outcomes.filter(pred).length;

  for (const status of ['sent', 'deferred', 'bounced']) {
    assert.equal(value(text, `dane_relay_recipients_total{status="${status}"}`), count((o) => o.status === status), `recipients ${status}`);
  }
  assert.equal(value(text, 'dane_relay_messages_accepted_total'), results.length);

  // Deliveries by the TLS state of their session, exactly (plaintext deliveries are `none`).
  for (const state of ['Verified', 'Trusted', 'Untrusted', 'Anonymous', 'none']) {
    const expected = count((o) => o.status === 'sent' && (o.tlsState ?? 'none') === state);
    assert.equal(sum(text, 'dane_relay_deliveries_sent_total', `tls_state="${state}"`), expected, `sent over ${state}`);
  }
  const verifiedSent = count((o) => o.status === 'sent' && o.tlsState === 'Verified');
  assert.ok(verifiedSent > 10);
  assert.equal(sum(text, 'dane_relay_tls_sessions_total', 'state="Verified"'), verifiedSent, 'one Verified session per Verified delivery (one domain per scenario)');

  // Every recipient not delivered counted once, under the cause its outcome shows.
  const refused = outcomes.filter((o) => o.status !== 'sent');
  for (const cause of REFUSAL_CAUSES) {
    // The text says "Server certificate not verified" for DANE and MTA-STS alike; the policy type tells them apart.
    const oracle = (o: (typeof refused)[number]) => {
      const c = classifyCause(o.dsn, o.detail ?? '');
      return c === 'tlsa_mismatch' && o.policyType === 'sts' ? 'certificate_not_verified' : c;
    };
    const expected = refused.filter((o) => oracle(o) === cause).length;
    assert.equal(value(text, `dane_relay_deliveries_refused_total{cause="${cause}"}`), expected, `refused: ${cause}`);
  }
  assert.equal(sum(text, 'dane_relay_deliveries_refused_total'), refused.length, 'each refused recipient counted once');
  assert.ok(value(text, 'dane_relay_deliveries_refused_total{cause="tlsa_mismatch"}') > 0);
  assert.ok(value(text, 'dane_relay_deliveries_refused_total{cause="starttls_missing"}') > 0);
  assert.ok(value(text, 'dane_relay_deliveries_refused_total{cause="tlsa_lookup_failure"}') > 0);

  // Hosts: a mismatched host is one TLS session (DANE result `mismatch`) and one skipped host (cause tlsa_mismatch).
  assert.equal(value(text, 'dane_relay_hosts_skipped_total{cause="tlsa_mismatch"}'), value(text, 'dane_relay_dane_results_total{result="mismatch"}'));
  assert.equal(value(text, 'dane_relay_hosts_skipped_total{cause="tlsa_lookup_failure"}'), value(text, 'dane_relay_dane_results_total{result="tempfail"}'));
  assert.ok(value(text, 'dane_relay_hosts_skipped_total{cause="other"}') === 0, 'every skipped host has a typed cause');
});
