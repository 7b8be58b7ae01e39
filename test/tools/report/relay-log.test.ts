/**
 * Contract: the report reads the events the relay really writes — built by
 * src/log/delivery-events.ts and src/log/queue-events.ts, serialised by pino
 * (nested `tls.state`, inbound's `queued`, the queue's duplicate `delivery`
 * record of each outcome) — without double counting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { deliveryEventOf, emitEvent, hostSkippedEventOf, tlsEventOf } from '../../../src/log/delivery-events.ts';
import { logQueueOutcome as logOutcome } from '../../../src/log/queue-events.ts';
import { newRecord } from '../../../src/queue/record.ts';
import { ReportAccumulator } from '../../../src/tools/report/summary.ts';

function capture(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  let buf = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

test('C30: tls / host-skipped / delivery events from the relay builders, via pino, are counted once', async () => {
  const { logger, lines } = capture();
  const ep = { domain: 'example.org', mx: 'mx.example.org', ip: '192.0.2.1', port: 25 };
  logger.info({ event: 'queued', qid: 'ABC123', client: '127.0.0.1', sender: 's@local.test', nrcpt: 2, size: 999 }, 'ABC123: from=<s@local.test>, size=999, nrcpt=2 (queue active)');
  emitEvent(logger, hostSkippedEventOf({ qid: 'ABC123', domain: 'example.org', mx: 'mx1.example.org', ip: '192.0.2.9', port: 25, dsn: '4.7.5', reason: 'Server certificate not verified', cause: 'tlsa_mismatch' }));
  emitEvent(logger, tlsEventOf({ ...ep, qid: 'ABC123', mxSecure: true, tlsaSecure: true, reason: 'dane', tls: { state: 'Verified', level: 'dane', feature: 'dane', protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, dane: { result: 'ok', base: 'mx.example.org', match: '3 1 1 ab depth=0' } }));
  emitEvent(logger, deliveryEventOf({ qid: 'ABC123', rcpt: 'a@example.org', domain: 'example.org', mx: ep.mx, ip: ep.ip, port: 25, relay: 'mx.example.org[192.0.2.1]:25', tls: { state: 'Verified', level: 'dane', feature: 'dane' }, dsn: '2.0.0', status: 'sent', delay: 0.2, delays: '0/0/0.1/0.1' }, '250 2.0.0 Ok'));
  emitEvent(logger, deliveryEventOf({ qid: 'ABC123', rcpt: 'b@broken.test', domain: 'broken.test', relay: 'none', dsn: '4.7.5', status: 'deferred', delay: 0.2, delays: '0/0/0.1/0.1' }, 'Server certificate not verified'));
  const rec = newRecord({ id: 'ABC123', sender: 's@local.test', recipients: ['a@example.org', 'b@broken.test'], receivedAt: Date.now(), size: 999, smtputf8: false, eightBit: false });
  const [a, b] = rec.recipients;
  assert.ok(a && b);
  Object.assign(a, { status: 'sent', dsn: '2.0.0', attempts: 1, relay: 'mx.example.org[192.0.2.1]:25' });
  Object.assign(b, { status: 'deferred', dsn: '4.7.5', attempts: 1, diagnostic: 'Server certificate not verified' });
  logOutcome(logger, rec, a, Date.now());
  logOutcome(logger, rec, b, Date.now());
  Object.assign(b, { status: 'bounced', expired: true });
  logOutcome(logger, rec, b, Date.now());
  await new Promise((r) => setImmediate(r));

  const acc = new ReportAccumulator();
  for (const l of lines) acc.addLine(l);
  const d = acc.result();
  assert.equal(d.skipped, 0, lines.join('\n'));
  assert.equal(d.messages.accepted, 1);
  assert.equal(d.messages.recipients, 2);
  assert.deepEqual(d.recipients, { sent: 1, deferred: 1, bounced: 0, expired: 1 });
  assert.deepEqual(d.messages.byStatus, { sent: 1, deferred: 1, bounced: 0, expired: 1 });
  assert.equal(d.tls.sessions.Verified, 1);
  assert.deepEqual(d.tls.dane, { ok: 1 });
  assert.deepEqual(d.refusals.map((r) => [r.cause, r.hostsSkipped, r.deferred, r.bounced]), [['tlsa_mismatch', 1, 1, 0]]);
  assert.equal(d.refusals[0]?.examples[1]?.text, 'Server certificate not verified');
});
