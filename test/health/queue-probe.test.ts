import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueFigures } from '../../src/health/queue-probe.ts';
import { storeMessage, tempSpool } from '../queue/helpers.ts';

test('queue figures: messages waiting in incoming/active/deferred/hold, age of the oldest from its queue id', async () => {
  const { spool, cleanup } = await tempSpool();
  try {
    const now = 1_790_000_100_000;
    assert.deepEqual(await queueFigures(spool, now), { messages: 0, oldestAgeSeconds: 0 });
    const old = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { now: now - 90_000 });
    await storeMessage(spool, 'a@src.test', ['r@dst.test'], { now: now - 5_000 });
    await spool.move(old, 'incoming', 'deferred');
    const corrupt = await storeMessage(spool, 'a@src.test', ['r@dst.test'], { now: now - 500_000 });
    await spool.move(corrupt, 'incoming', 'corrupt');
    assert.deepEqual(await queueFigures(spool, now), { messages: 2, oldestAgeSeconds: 90 });
  } finally {
    await cleanup();
  }
});
