import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newRecord, parseRecord } from '../../src/queue/record.ts';
import { verifyQueueFile } from '../../src/queue/queue-file-io.ts';
import { backoffDelay, isExpired } from '../../src/queue/backoff.ts';
import { storeMessage, tempSpool } from './helpers.ts';

describe('spool', () => {
  test('recover(): active/ goes back to incoming/, tmp/ (half-written messages) is emptied', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const interrupted = await storeMessage(spool, 'a@src.test', ['r@dst.test']);
      await spool.move(interrupted, 'incoming', 'active');
      const w = await spool.beginMessage(Date.now());
      await w.write(Buffer.from('half written'));
      assert.equal((await readdir(join(dir, 'tmp'))).length, 1);
      assert.deepEqual(await spool.recover(), [interrupted]);
      assert.deepEqual(await spool.list('incoming'), [interrupted]);
      assert.deepEqual(await spool.list('active'), []);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      await w.abort();
    } finally {
      await cleanup();
    }
  });

  test('a new message committed into active/ is complete there, nowhere else, and goes back to incoming/ at recover()', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const w = await spool.beginMessage(Date.now());
      const body = Buffer.from('Subject: x\r\n\r\nhello\r\n');
      await w.write(body);
      await w.commit(newRecord({ id: w.id, sender: 'a@src.test', recipients: ['r@dst.test'], receivedAt: 1, size: body.length, smtputf8: false, eightBit: false }), 'active');
      assert.deepEqual(await spool.list('active'), [w.id]);
      assert.deepEqual(await spool.list('incoming'), []);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      const read = await spool.readRecord('active', w.id);
      assert.equal(read.kind, 'ok');
      assert.deepEqual(await spool.readContent('active', w.id, body.length), body);
      assert.deepEqual(await spool.recover(), [w.id]);
      assert.deepEqual(await spool.list('incoming'), [w.id]);
    } finally {
      await cleanup();
    }
  });

  test('a committed file carries the checksum of its content and record (verifyQueueFile reads it whole)', async () => {
    const { spool, cleanup } = await tempSpool();
    try {
      const id = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { body: 'Subject: x\r\n\r\nhello\r\n' });
      const bytes = await readFile(spool.path('incoming', id));
      assert.match(bytes.toString('latin1'), /\nDRQ2 \d+ \d+ [0-9a-f]{8}\n$/);
      assert.equal((await verifyQueueFile(spool.path('incoming', id), id)).kind, 'ok');
    } finally {
      await cleanup();
    }
  });

  test('setAsideTorn(): a file a crash tore before its fsync (zeros before an intact trailer) goes to corrupt/; whole ones stay', async () => {
    const { spool, cleanup } = await tempSpool();
    try {
      const whole = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { body: 'Subject: whole\r\n\r\nhello\r\n' });
      const torn = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { body: `Subject: torn\r\n\r\n${'x'.repeat(9000)}\r\n` });
      const inActive = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { body: `Subject: torn too\r\n\r\n${'y'.repeat(9000)}\r\n`, into: 'active' });
      for (const [dir, id] of [['incoming', torn], ['active', inActive]] as const) {
        const bytes = await readFile(spool.path(dir, id));
        bytes.fill(0, 4096, 8192);
        await writeFile(spool.path(dir, id), bytes);
      }
      const moved = await spool.recover();
      const setAside = await spool.setAsideTorn();
      assert.deepEqual(moved, [inActive]);
      assert.deepEqual(setAside.map((t) => t.id).sort(), [torn, inActive].sort());
      for (const t of setAside) assert.match(t.reason, /checksum/);
      assert.deepEqual(await spool.list('incoming'), [whole]);
      assert.deepEqual(await spool.list('corrupt'), [torn, inActive].sort());
    } finally {
      await cleanup();
    }
  });

  test('setAsideTorn(): the check runs on the first start of each kernel boot (checked-boot), and on every start where no boot id is known', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    const tear = async (): Promise<string> => {
      const id = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { body: `Subject: torn\r\n\r\n${'x'.repeat(9000)}\r\n` });
      const bytes = await readFile(spool.path('incoming', id));
      bytes.fill(0, 4096, 8192);
      await writeFile(spool.path('incoming', id), bytes);
      return id;
    };
    try {
      const first = await tear();
      assert.deepEqual((await spool.setAsideTorn(Promise.resolve('boot-a'))).map((t) => t.id), [first]);
      assert.equal(await readFile(join(dir, 'checked-boot'), 'utf8'), 'boot-a\n');
      // Same boot: no power loss can have happened since the check, so the files are not read again.
      const second = await tear();
      assert.deepEqual(await spool.setAsideTorn(Promise.resolve('boot-a')), []);
      assert.deepEqual(await spool.list('incoming'), [second]);
      // A new boot (the machine went down): checked again.
      assert.deepEqual((await spool.setAsideTorn(Promise.resolve('boot-b'))).map((t) => t.id), [second]);
      assert.equal(await readFile(join(dir, 'checked-boot'), 'utf8'), 'boot-b\n');
      // No boot id readable: every start checks, and checked-boot is left as it was.
      const third = await tear();
      assert.deepEqual((await spool.setAsideTorn(Promise.resolve(undefined))).map((t) => t.id), [third]);
      assert.equal(await readFile(join(dir, 'checked-boot'), 'utf8'), 'boot-b\n');
      assert.deepEqual(await spool.list('corrupt'), [first, second, third].sort());
      // checked-boot cannot be written (here: a directory stands in its way): the start goes on, and checks again next time.
      await rm(join(dir, 'checked-boot'));
      await mkdir(join(dir, 'checked-boot'));
      const fourth = await tear();
      assert.deepEqual((await spool.setAsideTorn(Promise.resolve('boot-c'))).map((t) => t.id), [fourth]);
      const fifth = await tear();
      assert.deepEqual((await spool.setAsideTorn(Promise.resolve('boot-c'))).map((t) => t.id), [fifth]);
    } finally {
      await cleanup();
    }
  });

  test('an aborted message committed into active/ leaves nothing behind', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const w = await spool.beginMessage(Date.now());
      await w.write(Buffer.from('data'));
      await w.commit(newRecord({ id: w.id, sender: '', recipients: ['r@dst.test'], receivedAt: 1, size: 4, smtputf8: false, eightBit: false }), 'active');
      await w.abort();
      assert.deepEqual(await spool.list('active'), []);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    } finally {
      await cleanup();
    }
  });

  test('an aborted message leaves nothing behind, also after its commit failed', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const w = await spool.beginMessage(Date.now());
      await w.write(Buffer.from('data'));
      await w.abort();
      const w2 = await spool.beginMessage(Date.now());
      await w2.write(Buffer.from('data'));
      const wrongSize = newRecord({ id: w2.id, sender: '', recipients: ['r@dst.test'], receivedAt: 1, size: 5, smtputf8: false, eightBit: false });
      await assert.rejects(w2.commit(wrongSize), /record size 5 but 4 bytes/);
      await w2.abort();
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      assert.deepEqual(await spool.list('incoming'), []);
    } finally {
      await cleanup();
    }
  });

  test('writeRecord replaces the record and keeps the content byte for byte (larger than one copy batch)', async () => {
    const { spool, cleanup } = await tempSpool();
    try {
      const content = Array.from({ length: 200_017 }, (_, i) => String.fromCharCode(32 + ((i * 7) % 95))).join('');
      const id = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { body: content });
      const read = await spool.readRecord('incoming', id);
      assert.equal(read.kind, 'ok');
      if (read.kind !== 'ok') return;
      const changed = { ...read.record, attempts: 3, recipients: read.record.recipients.map((r) => ({ ...r, status: 'deferred' as const, diagnostic: 'x'.repeat(10_000) })) };
      await spool.writeRecord('incoming', changed);
      assert.deepEqual(await spool.readRecord('incoming', id), { kind: 'ok', record: changed }, 'a record longer than the tail read is read whole');
      assert.equal((await spool.readContent('incoming', id, changed.size)).toString('latin1'), content);
      const streamed = Buffer.concat(await spool.openContent('incoming', id, changed.size).toArray());
      assert.equal(streamed.length, changed.size, 'the content stream stops before the record');
    } finally {
      await cleanup();
    }
  });

  test('a damaged queue file reads as corrupt (truncated, appended to, no trailer, size mismatch), a missing one as missing', async () => {
    const { spool, cleanup } = await tempSpool();
    try {
      const id = await storeMessage(spool, 'a@src.test', ['r@dst.test']);
      const path = spool.path('incoming', id);
      const good = await readFile(path);
      const damaged: Array<[string, Buffer]> = [
        ['truncated', good.subarray(0, good.length - 3)],
        ['appended to', Buffer.concat([good, Buffer.from('x')])],
        ['not a queue file', Buffer.from('{"version":1}')],
        ['empty', Buffer.alloc(0)],
        ['size mismatch', Buffer.from(good.toString('latin1').replace(/"size":(\d+)/, (_m, n: string) => `"size":${Number(n) - 1}`), 'latin1')],
      ];
      for (const [name, bytes] of damaged) {
        await writeFile(path, bytes);
        assert.equal((await spool.readRecord('incoming', id)).kind, 'corrupt', name);
      }
      assert.equal((await spool.readRecord('deferred', id)).kind, 'missing');
    } finally {
      await cleanup();
    }
  });

  const corrupt: Array<[string, string]> = [['not JSON', '{"version":'], ['wrong version', '{"version":2}'], ['no recipients', JSON.stringify({ version: 1, id: 'ABCDEF', sender: '', receivedAt: 1, size: 1, smtputf8: false, eightBit: false, attempts: 0, nextAttemptAt: 0, recipients: [] })]];
  for (const [name, text] of corrupt) test(`a record that is ${name} parses as corrupt, never throws`, () => assert.equal(parseRecord(text).kind, 'corrupt'));
  test('a record whose id does not match its file name is corrupt', () => {
    const text = JSON.stringify({ version: 1, id: 'ABCDEF', sender: '', receivedAt: 1, size: 1, smtputf8: false, eightBit: false, attempts: 0, nextAttemptAt: 0, recipients: [{ address: 'a@b', status: 'pending', attempts: 0 }] });
    assert.equal(parseRecord(text, 'ABCDEF').kind, 'ok');
    assert.equal(parseRecord(text, '123456').kind, 'corrupt');
  });
});

describe('backoff (Postfix defaults: 300 s .. 4000 s, 5 d lifetime)', () => {
  const policy = { minBackoffMs: 300_000, maxBackoffMs: 4_000_000, maxLifetimeMs: 432_000_000, bounceLifetimeMs: 86_400_000 };
  const table: Array<[number, number]> = [[1, 300_000], [2, 600_000], [3, 1_200_000], [4, 2_400_000], [5, 4_000_000], [50, 4_000_000]];
  for (const [passes, delay] of table) test(`after pass ${passes}: ${delay / 1000} s`, () => assert.equal(backoffDelay(policy, passes), delay));
  test('lifetime: max_lifetime for normal senders, bounce_lifetime for the null sender', () => {
    assert.equal(isExpired(policy, 'a@b', 0, 432_000_000 - 1), false);
    assert.equal(isExpired(policy, 'a@b', 0, 432_000_000), true);
    assert.equal(isExpired(policy, '', 0, 86_400_000), true);
  });
});
