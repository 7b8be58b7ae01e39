/**
 * queue/delivery-pass: one message's pass from activation to the file moved
 * or removed (RFC 5321 §4.5.4.1 retry; RFC 3464 DSN once; Postfix qmgr).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { Spool } from '../../src/queue/spool.ts';
import { DeliveryPass, type PassContext } from '../../src/queue/delivery-pass.ts';
import { mountTmpfs, tmpfsSkip, type Tmpfs } from '../fixtures/tmpfs.ts';
import { DEFER, REJECT, SENT, settings, storeMessage, tempSpool } from './helpers.ts';

const NOW = 1_700_000_000_000;

describe('delivery pass', () => {
  let spool: Spool; let cleanup: () => Promise<void>; const notified: string[] = [];
  let ctx: () => PassContext;
  before(async () => {
    ({ spool, cleanup } = await tempSpool());
    ctx = () => ({ spool, logger: pino({ level: 'silent' }), settings: settings(), notify: (id) => notified.push(id) });
  });
  after(async () => { await cleanup(); });

  test('activation moves the message to active/, counts the attempt, and makes one job per next-hop domain (case-insensitive)', async () => {
    const id = await storeMessage(spool, 'a@src.test', ['x@One.test', 'y@one.TEST', 'z@two.test'], { now: NOW });
    const pass = await DeliveryPass.open(ctx, id, 'incoming');
    assert.ok(pass);
    assert.equal(await spool.locate(id), 'active');
    assert.equal(pass.record.attempts, 1);
    assert.deepEqual(pass.jobs().map((j) => [j.domain, j.recipients]), [['one.test', ['x@One.test', 'y@one.TEST']], ['two.test', ['z@two.test']]]);
  });

  test('a deferral ends the pass in deferred/ with the next attempt time; a later pass only carries the deferred recipients', async () => {
    const id = await storeMessage(spool, 'a@src.test', ['x@one.test', 'z@two.test'], { now: NOW });
    const pass = await DeliveryPass.open(ctx, id, 'incoming');
    assert.ok(pass);
    const [one, two] = pass.jobs();
    assert.ok(one && two);
    assert.equal(await pass.complete(one, [{ recipient: 'x@one.test', ...SENT }], NOW), null, 'not the last job: the pass goes on');
    const end = await pass.complete(two, [{ recipient: 'z@two.test', ...DEFER }], NOW);
    assert.equal(end?.kind, 'deferred');
    assert.equal(await spool.locate(id), 'deferred');
    const again = await DeliveryPass.open(ctx, id, 'deferred');
    assert.deepEqual(again?.jobs().map((j) => j.recipients), [['z@two.test']]);
  });

  test('a 5xx bounce queues one DSN to the sender, hands it over, then removes the message', async () => {
    const id = await storeMessage(spool, 'alice@src.test', ['ghost@one.test'], { now: NOW });
    const pass = await DeliveryPass.open(ctx, id, 'incoming');
    assert.ok(pass);
    const [job] = pass.jobs();
    assert.ok(job);
    const end = await pass.complete(job, [{ recipient: 'ghost@one.test', ...REJECT }], NOW);
    assert.equal(end?.kind, 'done');
    assert.equal(await spool.locate(id), undefined);
    const dsnId = notified.at(-1);
    assert.ok(dsnId);
    assert.equal(await spool.locate(dsnId), 'incoming');
  });

  test('a recipient the engine gave no outcome is deferred 4.3.0, never lost', async () => {
    const id = await storeMessage(spool, 'a@src.test', ['x@one.test'], { now: NOW });
    const pass = await DeliveryPass.open(ctx, id, 'incoming');
    assert.ok(pass);
    const [job] = pass.jobs();
    assert.ok(job);
    assert.equal((await pass.complete(job, [], NOW))?.kind, 'deferred');
    assert.equal(pass.record.recipients[0]?.dsn, '4.3.0');
  });

  test('a message gone before activation gives no pass', async () => {
    assert.equal(await DeliveryPass.open(ctx, 'NOSUCHID', 'incoming'), undefined);
  });
});

describe('delivery pass on a full disk (non-negotiable 7; 1 MiB tmpfs, root only)', { skip: tmpfsSkip }, () => {
  let disk: Tmpfs; let spool: Spool;
  before(async () => {
    disk = await mountTmpfs();
    spool = await Spool.open(join(disk.dir, 'spool'));
  });
  after(async () => {
    await spool.close();
    await disk.unmount();
  });

  test('a record that cannot be rewritten ends the pass in a retry from active/ with the old record: nothing lost, no half file left; with space back it defers', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const ctx = (): PassContext => ({ spool, logger, settings: settings(), notify: () => undefined });
    const id = await storeMessage(spool, 'a@src.test', ['x@one.test', 'z@two.test'], { now: NOW, body: `Subject: big\r\n\r\n${'y'.repeat(76).concat('\r\n').repeat(300)}` });
    const filler = await disk.fill(0);
    const pass = await DeliveryPass.open(ctx, id, 'incoming');
    assert.ok(pass, 'activation is a rename: it needs no space');
    const [one, two] = pass.jobs();
    assert.ok(one && two);
    assert.equal(await pass.complete(one, [{ recipient: 'x@one.test', ...SENT }], NOW), null);
    const end = await pass.complete(two, [{ recipient: 'z@two.test', ...DEFER }], NOW);
    assert.deepEqual(end, { kind: 'retry', dir: 'active', due: NOW + settings().minBackoffMs });
    assert.match(lines.join(''), /cannot update queue file: .*ENOSPC/);
    assert.deepEqual(await readdir(join(disk.dir, 'spool', 'tmp')), [], 'the failed copy was removed');
    const kept = await spool.readRecord('active', id);
    assert.equal(kept.kind, 'ok');
    assert.deepEqual(kept.kind === 'ok' && kept.record.recipients.map((r) => r.status), ['pending', 'pending'], 'the file still holds the message for both: x may get it twice, never zero times');

    await rm(filler);
    const again = await DeliveryPass.open(ctx, id, 'active');
    assert.ok(again);
    const jobs = again.jobs();
    assert.deepEqual(jobs.map((j) => j.recipients), [['x@one.test'], ['z@two.test']]);
    let last = null;
    for (const job of jobs) last = await again.complete(job, job.recipients.map((recipient) => ({ recipient, ...DEFER })), NOW);
    assert.equal(last?.kind, 'deferred');
    assert.equal(await spool.locate(id), 'deferred');
  });
});
