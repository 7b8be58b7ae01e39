/**
 * The DSNs a delivery pass owes, by NOTIFY, RET and REQUIRETLS (RFC 3461
 * §4.1, §4.3, §5.2.2; RFC 3464; RFC 8689 §5), read back from the spool with a
 * real MIME parser; and the DSN parameters surviving a restart (the record on
 * disk).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { DeliveryPass, type PassContext } from '../../src/queue/delivery-pass.ts';
import { newRecord, parseRecord } from '../../src/queue/record.ts';
import type { Spool } from '../../src/queue/spool.ts';
import type { SchedulerSettings } from '../../src/queue/scheduler.ts';
import { DEFER, REJECT, SENT, settings, tempSpool } from './helpers.ts';
import { parseDsn, storeWithDsn } from './dsn-fixtures.ts';
import type { NewRecipient } from '../../src/queue/record.ts';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

describe('DSNs decided at the end of a pass', () => {
  let spool: Spool; let cleanup: () => Promise<void>; let notified: string[] = [];
  let overrides: Partial<SchedulerSettings> = {};
  const ctx = (): PassContext => ({ spool, logger: pino({ level: 'silent' }), settings: settings(overrides), notify: (id) => notified.push(id) });
  before(async () => { ({ spool, cleanup } = await tempSpool()); });
  after(async () => { await cleanup(); });

  async function onePass(rcpts: NewRecipient[], outcome: Record<string, unknown>, opts: Parameters<typeof storeWithDsn>[3] = { now: NOW }, at = NOW): Promise<{ id: string; dsns: string[] }> {
    notified = [];
    const id = await storeWithDsn(spool, 'alice@src.test', rcpts, opts);
    const pass = await DeliveryPass.open(ctx, id, 'incoming');
    assert.ok(pass);
    const [job] = pass.jobs();
    assert.ok(job);
    await pass.complete(job, job.recipients.map((recipient) => ({ recipient, ...outcome }) as never), at);
    return { id, dsns: [...notified] };
  }

  async function readDsn(id: string) {
    const rec = await spool.readRecord('incoming', id);
    assert.equal(rec.kind, 'ok');
    if (rec.kind !== 'ok') throw new Error('no record');
    return { record: rec.record, dsn: await parseDsn(await spool.readContent('incoming', id, rec.record.size)) };
  }

  test('RFC 3461 §4.1: NOTIFY=NEVER → a 5xx bounce sends no DSN at all, the message is removed', async () => {
    const { id, dsns } = await onePass([{ address: 'ghost@one.test', notify: ['NEVER'] }], REJECT);
    assert.deepEqual(dsns, []);
    assert.equal(await spool.locate(id), undefined);
  });

  test('RFC 3461 §4.1: no NOTIFY → failure DSN (Postfix default), from <> to the sender, Action: failed', async () => {
    const { dsns } = await onePass([{ address: 'ghost@one.test' }], REJECT);
    assert.equal(dsns.length, 1);
    const { record, dsn } = await readDsn(dsns[0] as string);
    assert.equal(record.sender, '');
    assert.deepEqual(record.recipients.map((r) => r.address), ['alice@src.test']);
    assert.equal(dsn.perRecipient[0]?.Action, 'failed');
  });

  test('RFC 3461 §5.2.2: NOTIFY=SUCCESS delivered to a next hop WITHOUT DSN → one relayed DSN with ORCPT and ENVID', async () => {
    const { dsns } = await onePass([{ address: 'bob@one.test', notify: ['SUCCESS'], orcpt: 'rfc822;bob@one.test' }], { ...SENT, hopOffersDsn: false }, { now: NOW, envid: 'ENV-1' });
    assert.equal(dsns.length, 1);
    const { dsn } = await readDsn(dsns[0] as string);
    assert.equal(dsn.perMessage['Original-Envelope-Id'], 'ENV-1');
    assert.deepEqual([dsn.perRecipient[0]?.Action, dsn.perRecipient[0]?.Status, dsn.perRecipient[0]?.['Original-Recipient']], ['relayed', '2.0.0', 'rfc822;bob@one.test']);
  });

  test('RFC 3461 §5.2.2: NOTIFY=SUCCESS to a next hop WITH DSN → nothing from us (NOTIFY was passed on)', async () => {
    const { dsns } = await onePass([{ address: 'bob@one.test', notify: ['SUCCESS'] }], { ...SENT, hopOffersDsn: true });
    assert.deepEqual(dsns, []);
  });

  test('no NOTIFY, delivered to a hop without DSN → no success DSN (only NOTIFY=SUCCESS asks for one)', async () => {
    const { dsns } = await onePass([{ address: 'bob@one.test' }], { ...SENT, hopOffersDsn: false });
    assert.deepEqual(dsns, []);
  });

  test('RFC 3461 §4.3: RET=FULL returns the whole message up to queue.dsn_max_returned_size, else headers only', async () => {
    overrides = { dsnMaxReturned: 50_000 };
    const full = await onePass([{ address: 'ghost@one.test' }], REJECT, { now: NOW, ret: 'FULL' });
    const f = await readDsn(full.dsns[0] as string);
    assert.equal(f.dsn.parts[2], 'message/rfc822');
    assert.match(f.dsn.returned, /the secret body/);
    overrides = { dsnMaxReturned: 10 };
    const big = await onePass([{ address: 'ghost@one.test' }], REJECT, { now: NOW, ret: 'FULL' });
    const b = await readDsn(big.dsns[0] as string);
    assert.equal(b.dsn.parts[2], 'text/rfc822-headers');
    assert.doesNotMatch(b.dsn.returned, /secret body/);
    overrides = {};
  });

  test('RFC 8689 §5: the DSN of a REQUIRETLS message is queued with REQUIRETLS and returns headers only, even for RET=FULL', async () => {
    const { dsns } = await onePass([{ address: 'ghost@one.test' }], { status: 'bounced', dsn: '5.7.30', diagnostic: 'REQUIRETLS: host mx does not offer REQUIRETLS' }, { now: NOW, ret: 'FULL', requireTls: true });
    const { record, dsn } = await readDsn(dsns[0] as string);
    assert.equal(record.requireTls, true);
    assert.equal(dsn.perRecipient[0]?.Status, '5.7.30');
    assert.equal(dsn.parts[2], 'text/rfc822-headers');
    assert.doesNotMatch(dsn.returned, /secret body/);
  });

  test('delay warnings: off by default (delay_warning_time 0)', async () => {
    const { dsns } = await onePass([{ address: 'slow@one.test' }], DEFER, { now: NOW - 10 * HOUR }, NOW);
    assert.deepEqual(dsns, []);
  });

  test('RFC 3464 §2.3.3: delay warning after queue.delay_warning_time, once, for NOTIFY=DELAY or no NOTIFY, not for NOTIFY=FAILURE', async () => {
    overrides = { delayWarningMs: 4 * HOUR };
    notified = [];
    const id = await storeWithDsn(spool, 'alice@src.test', [{ address: 'a@one.test' }, { address: 'b@one.test', notify: ['DELAY'] }, { address: 'c@one.test', notify: ['FAILURE'] }], { now: NOW - 5 * HOUR });
    let pass = await DeliveryPass.open(ctx, id, 'incoming');
    assert.ok(pass);
    let [job] = pass.jobs();
    assert.ok(job);
    await pass.complete(job, job.recipients.map((recipient) => ({ recipient, ...DEFER })), NOW);
    assert.equal(notified.length, 1);
    const { dsn } = await readDsn(notified[0] as string);
    assert.equal(dsn.mail.subject, 'Delayed Mail (still being retried)');
    assert.deepEqual(dsn.perRecipient.map((r) => [r['Final-Recipient'], r.Action]), [['rfc822; a@one.test', 'delayed'], ['rfc822; b@one.test', 'delayed']]);
    // The next pass: still deferred, already warned: no second warning.
    notified = [];
    pass = await DeliveryPass.open(ctx, id, 'deferred');
    assert.ok(pass);
    [job] = pass.jobs();
    assert.ok(job);
    await pass.complete(job, job.recipients.map((recipient) => ({ recipient, ...DEFER })), NOW + HOUR);
    assert.deepEqual(notified, []);
    overrides = {};
  });

  test('the job carries RET/ENVID, per-recipient NOTIFY/ORCPT (rfc822;recipient when none was given, as Postfix) and REQUIRETLS', async () => {
    const id = await storeWithDsn(spool, 'alice@src.test', [{ address: 'a@one.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;A@one.test' }, { address: 'b@one.test' }], { now: NOW, ret: 'HDRS', envid: 'E1', requireTls: true });
    const pass = await DeliveryPass.open(ctx, id, 'incoming');
    const [job] = pass?.jobs() ?? [];
    assert.deepEqual([job?.dsn, job?.recipientDsn, job?.requireTls, job?.tlsOptional], [{ ret: 'HDRS', envid: 'E1' }, { 'a@one.test': { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;A@one.test' }, 'b@one.test': { orcpt: 'rfc822;b@one.test' } }, true, undefined]);
  });
});

describe('RFC 8689 §5: TLS-Required: No reaches the engine only when the operator allows it', () => {
  const cases: Array<[string, { tlsRequiredNo?: boolean; requireTls?: boolean }, boolean | undefined, true | undefined]> = [
    ['header present, tls.honor_tls_required_no false (default): ignored', { tlsRequiredNo: true }, undefined, undefined],
    ['header present, honor_tls_required_no true: TLS optional for this message', { tlsRequiredNo: true }, true, true],
    ['no header, honor true: nothing changes', {}, true, undefined],
  ];
  for (const [name, rec, honor, want] of cases) {
    test(name, async () => {
      const { spool, cleanup } = await tempSpool();
      try {
        const w = await spool.beginMessage(NOW);
        const body = Buffer.from('Subject: x\r\nTLS-Required: No\r\n\r\nhi\r\n');
        await w.write(body);
        await w.commit({ ...newRecord({ id: w.id, sender: 's@src.test', recipients: ['a@one.test'], receivedAt: NOW, size: body.length, smtputf8: false, eightBit: false }), ...rec });
        const ctx = (): PassContext => ({ spool, logger: pino({ level: 'silent' }), settings: settings(honor === undefined ? {} : { honorTlsRequiredNo: honor }), notify: () => undefined });
        const pass = await DeliveryPass.open(ctx, w.id, 'incoming');
        assert.equal(pass?.jobs()[0]?.tlsOptional, want);
      } finally {
        await cleanup();
      }
    });
  }
});

describe('queue record: DSN and REQUIRETLS fields survive a restart, old records still load', () => {
  test('a record with NOTIFY, ORCPT, RET, ENVID, REQUIRETLS is read back from disk unchanged', async () => {
    const { spool, cleanup } = await tempSpool();
    try {
      const id = await storeWithDsn(spool, 's@src.test', [{ address: 'a@one.test', notify: ['NEVER'], orcpt: 'rfc822;a+b@one.test' }], { now: NOW, ret: 'FULL', envid: 'X=1', requireTls: true });
      const read = await spool.readRecord('incoming', id);
      assert.equal(read.kind, 'ok');
      if (read.kind !== 'ok') return;
      assert.deepEqual([read.record.ret, read.record.envid, read.record.requireTls, read.record.recipients[0]?.notify, read.record.recipients[0]?.orcpt], ['FULL', 'X=1', true, ['NEVER'], 'rfc822;a+b@one.test']);
    } finally {
      await cleanup();
    }
  });

  test('a version-1 record written before these fields existed parses, with none of them set', () => {
    const old = '{"version":1,"id":"0123456789AB","sender":"s@src.test","receivedAt":1,"size":10,"smtputf8":false,"eightBit":false,"attempts":0,"nextAttemptAt":1,"recipients":[{"address":"a@one.test","status":"pending","attempts":0}]}';
    const p = parseRecord(old);
    assert.equal(p.kind, 'ok');
    if (p.kind !== 'ok') return;
    assert.deepEqual([p.record.ret, p.record.envid, p.record.requireTls, p.record.recipients[0]?.notify], [undefined, undefined, undefined, undefined]);
  });

  test('an invalid NOTIFY value in a record is corrupt, never guessed', () => {
    const bad = '{"version":1,"id":"0123456789AB","sender":"s@src.test","receivedAt":1,"size":10,"smtputf8":false,"eightBit":false,"attempts":0,"nextAttemptAt":1,"recipients":[{"address":"a@one.test","status":"pending","attempts":0,"notify":["SOMETIMES"]}]}';
    assert.equal(parseRecord(bad).kind, 'corrupt');
  });
});
