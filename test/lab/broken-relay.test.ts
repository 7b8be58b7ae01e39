/**
 * The lab must be able to fail: a naive relay that ignores DNSSEC, TLSA and
 * STARTTLS (it delivers in plaintext to the first MX host) must FAIL the
 * scenarios where TLS was owed, each flagged as a plaintext leak.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type pino from 'pino';
import type { RelayConfig } from '../../src/config/schema.ts';
import type { Deliverer, DeliveryJob, RecipientOutcome } from '../../src/queue/deliverer.ts';
import { runLab } from '../../src/lab/lab-runner.ts';
import { findScenario } from '../../src/lab/scenarios.ts';

function sendPlain(host: string, port: number, job: DeliveryJob): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = new SMTPConnection({ host, port, ignoreTLS: true, connectionTimeout: 3000, socketTimeout: 5000 });
    conn.on('error', () => resolve(false));
    conn.connect(() => conn.send({ from: job.sender, to: job.recipients }, job.openBody(), (err) => { conn.quit(); resolve(!err); }));
  });
}

/** DANE-unaware, plaintext-only delivery to the first MX host. */
function naiveDeliverer(config: RelayConfig, logger: pino.Logger): Deliverer {
  const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([...config.dns.resolvers]);
  return {
    async deliver(job) {
      let ok = false;
      try {
        const mx = (await resolver.resolveMx(job.domain)).sort((a, b) => a.priority - b.priority)[0];
        const [ip] = mx ? await resolver.resolve4(mx.exchange) : [];
        ok = ip !== undefined && await sendPlain(ip, config.delivery.port, job);
      } catch { ok = false; }
      return job.recipients.map((recipient): RecipientOutcome => {
        const o: RecipientOutcome = { recipient, status: ok ? 'sent' : 'deferred', dsn: ok ? '2.0.0' : '4.4.1', diagnostic: 'naive' };
        logger.info({ event: 'delivery', qid: job.queueId, rcpt: recipient, status: o.status, dsn: o.dsn }, 'naive delivery');
        return o;
      });
    },
    close: () => Promise.resolve(),
  };
}

test('C14 C16: the lab flags a DANE-unaware plaintext relay as leaking', async () => {
  const scenarios = ['ee-311', 'ee-mismatch-one-digit', 'attack-strip-starttls'].map((n) => findScenario(n)!);
  const results = await runLab({ scenarios, timeoutMs: 30_000, makeDeliverer: (config, deps) => Promise.resolve(naiveDeliverer(config, deps.logger)) });
  assert.equal(results.length, 3);
  for (const r of results) {
    assert.equal(r.pass, false, r.name);
    assert.equal(r.plaintextLeak, true, `${r.name}: ${r.problems.join('; ')}`);
  }
  const strip = results.find((r) => r.name.endsWith('attack-strip-starttls'))!;
  assert.equal(strip.observation.proxy?.sawMessageInClear, true);
});

test('a lab without servers runs, and a wrong expectation is reported as FAIL, not hidden', async () => {
  const nx = findScenario('nxdomain')!;
  const [r] = await runLab({ scenarios: [{ ...nx, expect: { status: 'sent' } }], timeoutMs: 30_000 });
  assert.ok(r);
  assert.equal(r.pass, false);
  assert.match(r.problems.join('; '), /status bounced, expected sent/);
  assert.match(r.problems.join('; '), /did not reach mx1/);
});
