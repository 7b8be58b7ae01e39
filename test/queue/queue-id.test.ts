import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isQueueId, newQueueId, queueIdTime } from '../../src/queue/queue-id.ts';

describe('queue ids', () => {
  test('ids made within one millisecond never collide (a new message is renamed into place by its id)', () => {
    const ids = new Set(Array.from({ length: 200_000 }, () => newQueueId(1_790_000_000_000)));
    assert.equal(ids.size, 200_000);
  });

  test('ids are queue ids, ordered by time, and give their time back', () => {
    const a = newQueueId(1_790_000_000_000);
    const b = newQueueId(1_790_000_000_001);
    assert.ok(isQueueId(a) && isQueueId(b));
    assert.ok(a < b);
    assert.equal(queueIdTime(a), 1_790_000_000_000);
    assert.equal(queueIdTime('ABCDEF'), undefined, 'too short to hold a time');
    assert.equal(queueIdTime('../x'), undefined);
  });
});
