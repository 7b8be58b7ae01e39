/**
 * DSN end to end through the whole relay (inbound → queue → delivery engine →
 * DSN queued → delivered to the sender's MX), one case per DSN rule, each DSN
 * read back with a real MIME parser (RFC 3461 §4.1–§4.4, §5.2.2, §6.2;
 * RFC 3464 §2.2–§2.3). The lab: a validating lab resolver; dst.test (signed,
 * DANE 3 1 1) whose MX is on 127.0.0.2; src.test (unsigned) whose MX on
 * 127.0.0.3 is the sender's mailbox, where DSNs arrive. Every case prints the
 * DSN's fields as a test diagnostic (the figures in the report).
 * Waits are on log events or arrivals, bounded (10 s) so a missing DSN fails
 * instead of hanging.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSelfSigned, type IssuedCert } from '../../src/lab/certs.ts';
import type { LabZone } from '../../src/lab/lab-resolver.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import { startRelay, type RelayHandle } from '../../src/relay.ts';
import { RawSmtp } from '../fixtures/smtp-client.ts';
import { addMx, collectingLogger, eventually, startLab, testConfig, tlsa, type Lab, type MxServer } from '../outbound/helpers.ts';
import { tempSpool } from '../queue/helpers.ts';
import { parseDsn, type ParsedDsn } from '../queue/dsn-fixtures.ts';

let cert: IssuedCert;
before(async () => { cert = await createSelfSigned({ dnsNames: ['mx.dst.test'] }); });

function zones(port: number): LabZone[] {
  return [
    { origin: 'dst.test', signed: true, records: [
      { name: 'dst.test', type: 'MX', data: { preference: 10, exchange: 'mx.dst.test' } },
      { name: 'mx.dst.test', type: 'A', data: '127.0.0.2' },
      { name: `_${port}._tcp.mx.dst.test`, type: 'TLSA', data: tlsa(3, 1, 1, tlsaDataFor(cert.der, 1, 1)) },
    ] },
    { origin: 'src.test', signed: false, records: [
      { name: 'src.test', type: 'MX', data: { preference: 10, exchange: 'mx.src.test' } },
      { name: 'mx.src.test', type: 'A', data: '127.0.0.3' },
    ] },
  ];
}

interface World { lab: Lab; relay: RelayHandle; dst: MxServer; inbox: MxServer; events: Array<Record<string, unknown>>; close(): Promise<void> }

async function world(opts: { dsn: boolean; rcpt?: (a: string) => { code: number; text: string } | null; queue?: Record<string, unknown> }): Promise<World> {
  const lab = await startLab([]);
  lab.resolver.setZones(zones(lab.port));
  const dst = await addMx(lab, { host: '127.0.0.2', cert, dsn: opts.dsn, ...(opts.rcpt ? { rcpt: opts.rcpt } : {}) });
  const inbox = await addMx(lab, { host: '127.0.0.3' });
  const { spool: s, dir, cleanup } = await tempSpool();
  await s.close?.();
  const { logger, events } = collectingLogger();
  const config = testConfig(lab.port, { listen: ['127.0.0.1:0'], spool: dir, queue: { min_backoff: '1h', max_backoff: '2h', ...(opts.queue ?? {}) } as never });
  const deliverer = await createDeliverer(config, { logger, dns: lab.dns });
  const relay = await startRelay(config, { deliverer, logger });
  return { lab, relay, dst, inbox, events, close: async () => { await relay.stop({ graceMs: 200 }); await lab.close(); await cleanup(); } };
}

/** Submits one message with raw MAIL/RCPT parameters; returns the queue id. */
async function submit(w: World, mail: string, rcpts: string[], body = 'From: alice@src.test\r\nTo: bob@dst.test\r\nSubject: dsn case\r\nMessage-ID: <case@src.test>\r\n\r\nthe body text\r\n'): Promise<string> {
  const port = w.relay.addresses[0]?.port ?? 0;
  const c = await RawSmtp.connect(port);
  try {
    await c.greeting;
    await c.cmd('EHLO client.src.test');
    assert.match(await c.cmd(`MAIL FROM:${mail}`), /^250/);
    for (const r of rcpts) assert.match(await c.cmd(`RCPT TO:${r}`), /^250/);
    assert.match(await c.cmd('DATA'), /^354/);
    c.write(body + '.\r\n');
    const reply = await c.reply();
    const id = /queued as ([0-9A-F]+)/.exec(reply)?.[1];
    assert.ok(id, reply);
    return id;
  } finally {
    c.close();
  }
}

async function dsnAt(w: World, n = 1): Promise<ParsedDsn> {
  assert.ok(await eventually(() => w.inbox.stats.messages.length >= n, 10_000), 'the DSN reached the sender\'s MX');
  const m = w.inbox.stats.messages[n - 1];
  assert.ok(m);
  assert.equal(m.from, '', 'RFC 3461 §6.2 / RFC 5321 §6.1: a DSN is sent from the null sender');
  assert.deepEqual(m.to, ['alice@src.test']);
  return parseDsn(Buffer.from(m.data));
}

/** Bounded wait for the message's own pass to end (its `removed` event): after it, no DSN can still be owed. */
async function removed(w: World, qid: string): Promise<void> {
  assert.ok(await eventually(() => w.events.some((e) => e.event === 'removed' && e.qid === qid), 10_000), `${qid} removed`);
}

function show(t: TestContext, d: ParsedDsn): void {
  t.diagnostic(`Subject: ${d.mail.subject ?? ''} | parts: ${d.parts.join(', ')}`);
  for (const [k, v] of Object.entries(d.perMessage)) t.diagnostic(`  ${k}: ${v}`);
  for (const r of d.perRecipient) for (const [k, v] of Object.entries(r)) t.diagnostic(`    ${k}: ${v}`);
}

describe('DSN end to end through the relay', () => {
  let ws: World[] = [];
  after(async () => { for (const w of ws) await w.close(); ws = []; });
  const make = async (o: Parameters<typeof world>[0]): Promise<World> => { const w = await world(o); ws.push(w); return w; };
  const ghost = (a: string) => (a.startsWith('ghost@') ? { code: 550, text: '5.1.1 <ghost@dst.test>: Recipient address rejected: User unknown' } : null);

  test('RFC 3464 + RFC 3461 §4.2–§4.4: 550 with RET=FULL, ENVID, ORCPT → failed DSN, message/rfc822 returned', async (t) => {
    const w = await make({ dsn: true, rcpt: ghost });
    await submit(w, '<alice@src.test> RET=FULL ENVID=case-1', ['<ghost@dst.test> NOTIFY=FAILURE ORCPT=rfc822;Ghost@dst.test']);
    const d = await dsnAt(w);
    show(t, d);
    assert.equal(d.reportType, 'delivery-status');
    assert.equal(d.perMessage['Original-Envelope-Id'], 'case-1');
    assert.deepEqual([d.perRecipient[0]?.Action, d.perRecipient[0]?.Status, d.perRecipient[0]?.['Original-Recipient'], d.perRecipient[0]?.['Remote-MTA']], ['failed', '5.1.1', 'rfc822;Ghost@dst.test', 'dns; mx.dst.test']);
    assert.match(d.perRecipient[0]?.['Diagnostic-Code'] ?? '', /^smtp; 550 5\.1\.1 /);
    assert.equal(d.parts[2], 'message/rfc822');
    assert.match(d.returned, /the body text/);
  });

  test('RFC 3461 §4.3: RET=HDRS → headers only', async (t) => {
    const w = await make({ dsn: true, rcpt: ghost });
    await submit(w, '<alice@src.test> RET=HDRS', ['<ghost@dst.test>']);
    const d = await dsnAt(w);
    show(t, d);
    assert.equal(d.parts[2], 'text/rfc822-headers');
    assert.doesNotMatch(d.returned, /the body text/);
  });

  test('RFC 3461 §4.1: NOTIFY=NEVER → no DSN; the other recipient (no NOTIFY) still gets its failure DSN', async (t) => {
    const w = await make({ dsn: true, rcpt: (a) => (a.startsWith('ghost') ? { code: 550, text: '5.1.1 unknown' } : null) });
    const qid = await submit(w, '<alice@src.test>', ['<ghost1@dst.test> NOTIFY=NEVER', '<ghost2@dst.test>']);
    await removed(w, qid);
    const d = await dsnAt(w);
    show(t, d);
    assert.deepEqual(d.perRecipient.map((r) => r['Final-Recipient']), ['rfc822; ghost2@dst.test']);
    assert.equal(w.inbox.stats.messages.length, 1);
  });

  test('RFC 3461 §5.2.2: NOTIFY=SUCCESS to a next hop without DSN → relayed DSN', async (t) => {
    const w = await make({ dsn: false });
    await submit(w, '<alice@src.test> ENVID=case-4', ['<bob@dst.test> NOTIFY=SUCCESS ORCPT=rfc822;bob@dst.test']);
    const d = await dsnAt(w);
    show(t, d);
    assert.deepEqual([d.perRecipient[0]?.Action, d.perRecipient[0]?.['Remote-MTA']], ['relayed', 'dns; mx.dst.test']);
    // The next hop's own enhanced code, as Postfix keeps it (smtp-server answers 250 2.6.0).
    assert.match(d.perRecipient[0]?.Status ?? '', /^2\.\d+\.\d+$/);
    assert.equal(w.dst.stats.messages.length, 1);
  });

  test('RFC 3461 §5.2.2: NOTIFY=SUCCESS to a next hop with DSN → NOTIFY/ORCPT/ENVID passed on, no DSN from us', async () => {
    const w = await make({ dsn: true });
    const qid = await submit(w, '<alice@src.test> RET=HDRS ENVID=case-5', ['<bob@dst.test> NOTIFY=SUCCESS ORCPT=rfc822;bob@dst.test']);
    await removed(w, qid);
    assert.deepEqual(w.dst.stats.messages[0]?.envelope, { dsn: { ret: 'HDRS', envid: 'case-5' }, rcptDsn: [{ notify: ['SUCCESS'], orcpt: 'rfc822;bob@dst.test' }], requireTLS: false });
    assert.equal(w.inbox.stats.messages.length, 0);
  });

  test('RFC 3464 §2.3.3: NOTIFY=DELAY with queue.delay_warning_time → one delayed DSN while the message is still being retried', async (t) => {
    const w = await make({ dsn: true, rcpt: () => ({ code: 451, text: '4.3.0 try again later' }), queue: { delay_warning_time: '1s', min_backoff: '1s', max_backoff: '1s' } });
    await submit(w, '<alice@src.test>', ['<slow@dst.test> NOTIFY=DELAY,FAILURE']);
    const d = await dsnAt(w);
    show(t, d);
    assert.equal(d.mail.subject, 'Delayed Mail (still being retried)');
    assert.deepEqual([d.perRecipient[0]?.Action, d.perRecipient[0]?.Status], ['delayed', '4.3.0']);
    assert.ok(d.perRecipient[0]?.['Will-Retry-Until']);
  });
});
