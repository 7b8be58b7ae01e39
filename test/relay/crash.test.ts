/**
 * Durability under SIGKILL (issue 19, the kill -9 storm, short version): a
 * relay child process is killed 4 times while 6 sessions send 300 messages;
 * after the last restart every message that got a 250 reply must be
 * delivered (duplicates are tolerated, loss is not) and the queue must be
 * empty. The kill schedule is seeded (test/fixtures/kill-storm.ts) and
 * printed; DANE_RELAY_STORM_SEED replays another one. The long version:
 * `npm run fuzz -- --storm` (1,000 messages, 20 kills).
 * Bounded: 45 s of sending, 30 s of final delivery.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKillStorm, stormSchedule } from '../fixtures/kill-storm.ts';

const SEED = Number(process.env.DANE_RELAY_STORM_SEED ?? 19_019);

test('the kill schedule is a function of the seed (replayable)', () => {
  assert.deepEqual(stormSchedule(7, 1000, 20), stormSchedule(7, 1000, 20));
  assert.notDeepEqual(stormSchedule(7, 1000, 20), stormSchedule(8, 1000, 20));
  const s = stormSchedule(SEED, 300, 4);
  assert.equal(s.length, 4);
  assert.ok(s.every((p, i) => p.afterAcked >= (s[i - 1]?.afterAcked ?? 0) && p.afterAcked < 300), 'kill points are in order, inside the run');
});

test(`crash safety: SIGKILL at seeded moments (seed ${SEED}) loses no message that was answered 250`, { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-crash-'));
  try {
    const r = await runKillStorm({ messages: 300, kills: 4, seed: SEED, deadlineMs: 45_000, dir, log: (line) => t.diagnostic(line) });
    t.diagnostic(`seed ${SEED}: ${r.acked} acknowledged, ${r.killsDone} kills (${r.killsAfterSending} after the last message was sent), ${r.delivered} delivered, ${r.duplicates} delivered twice, ${r.lost.length} lost`);
    assert.equal(r.acked, 300, 'every message was eventually acknowledged');
    assert.equal(r.killsDone, 4, 'every scheduled kill happened');
    assert.deepEqual(r.lost, [], `lost ${r.lost.length} acknowledged message(s)`);
    assert.equal(r.delivered, 300, 'everything acknowledged was delivered, including what sat in active/ at a kill');
    for (const d of ['incoming', 'active', 'deferred', 'corrupt']) assert.deepEqual(await readdir(join(dir, 'spool', d)), [], `${d}/ is empty at the end`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
