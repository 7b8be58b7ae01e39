import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { isQueueId, newQueueId, queueIdTime } from '../../src/queue/queue-id.ts';
import { tempSpool } from './helpers.ts';

describe('queue ids (acceptance time + inode of the queue file, as Postfix long queue ids)', () => {
  test('messages begun in the same millisecond get different ids, named after their files (a new message is renamed into place by its id)', async () => {
    const { spool, cleanup } = await tempSpool();
    try {
      const now = 1_790_000_000_000;
      const writers = await Promise.all(Array.from({ length: 50 }, () => spool.beginMessage(now)));
      assert.equal(new Set(writers.map((w) => w.id)).size, 50);
      const w = writers[0];
      assert.ok(w);
      await w.write(Buffer.from('x'));
      await w.commit({ version: 1, id: w.id, sender: '', receivedAt: now, size: 1, smtputf8: false, eightBit: false, attempts: 0, nextAttemptAt: now, recipients: [{ address: 'r@dst.test', status: 'pending', attempts: 0 }] });
      const ino = (await stat(spool.path('incoming', w.id), { bigint: true })).ino;
      assert.equal(w.id, newQueueId(now, ino), 'the suffix is the queued file\'s inode');
      for (const other of writers.slice(1)) await other.abort();
    } finally {
      await cleanup();
    }
  });

  test('ids are queue ids, ordered by time, and give their time back', () => {
    const a = newQueueId(1_790_000_000_000, 0xffffff);
    const b = newQueueId(1_790_000_000_001, 12);
    assert.ok(isQueueId(a) && isQueueId(b));
    assert.ok(a < b);
    assert.equal(queueIdTime(a), 1_790_000_000_000);
    assert.equal(queueIdTime(newQueueId(5, 7)), 5, 'the time has a fixed width');
    assert.equal(queueIdTime(newQueueId(1_790_000_000_000, 2n ** 40n)), 1_790_000_000_000, 'a wide inode does not move the time');
    assert.equal(queueIdTime('ABCDEF'), undefined, 'too short to hold a time');
    assert.equal(queueIdTime('../x'), undefined);
  });
});
