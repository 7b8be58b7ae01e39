import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRecord } from '../../src/queue/record.ts';
import { backoffDelay, isExpired } from '../../src/queue/backoff.ts';
import { storeMessage, tempSpool } from './helpers.ts';

describe('spool', () => {
  test('recover(): active/ goes back to incoming/, tmp/ is emptied, orphan bodies are removed', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const interrupted = await storeMessage(spool, 'a@src.test', ['r@dst.test']);
      await spool.move(interrupted, 'incoming', 'active');
      const orphan = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { now: Date.now() + 1 });
      await spool.remove(orphan, 'incoming');
      const w = await spool.beginBody('ABCDEF0123');
      await w.write(Buffer.from('half written'));
      await writeFile(join(dir, 'body', orphan), 'orphan body');
      assert.deepEqual(await spool.recover(), [interrupted]);
      assert.deepEqual(await spool.list('incoming'), [interrupted]);
      assert.deepEqual(await spool.list('active'), []);
      assert.deepEqual(await spool.list('body'), [interrupted]);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      await w.abort();
    } finally {
      await cleanup();
    }
  });

  test('an aborted body leaves nothing behind', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const w = await spool.beginBody('ABCDEF0124');
      await w.write(Buffer.from('data'));
      await w.abort();
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      assert.deepEqual(await spool.list('body'), []);
    } finally {
      await cleanup();
    }
  });

  const corrupt: Array<[string, string]> = [['not JSON', '{"version":'], ['wrong version', '{"version":2}'], ['no recipients', JSON.stringify({ version: 1, id: 'ABCDEF', sender: '', receivedAt: 1, size: 1, smtputf8: false, eightBit: false, attempts: 0, nextAttemptAt: 0, recipients: [] })]];
  for (const [name, text] of corrupt) test(`a control file that is ${name} parses as corrupt, never throws`, () => assert.equal(parseRecord(text).kind, 'corrupt'));
  test('a control file whose id does not match its name is corrupt', () => {
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
