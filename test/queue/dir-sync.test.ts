import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirSyncer } from '../../src/queue/dir-sync.ts';

/** A fake fsync whose completions the test controls. */
function fakeFsync() {
  const calls: Array<{ dir: string; startedAt: number; done: () => void; fail: (e: Error) => void }> = [];
  let clock = 0;
  const fsync = (dir: string) => new Promise<void>((resolve, reject) => {
    calls.push({ dir, startedAt: clock++, done: resolve, fail: reject });
  });
  return { calls, fsync, tick: () => clock++ };
}

const settle = () => new Promise((r) => setImmediate(r));

test('group commit: callers during a running fsync share ONE follow-up fsync that starts after it', async () => {
  const f = fakeFsync();
  const s = new DirSyncer(f.fsync);
  const resolved: string[] = [];
  const a = s.sync('/q/incoming').then(() => resolved.push('a'));
  await settle();
  assert.equal(f.calls.length, 1);
  const b = s.sync('/q/incoming').then(() => resolved.push('b'));
  const c = s.sync('/q/incoming').then(() => resolved.push('c'));
  await settle();
  assert.equal(f.calls.length, 1, 'b and c must not reuse the fsync that started before them, nor start a second concurrent one');
  f.calls[0]?.done();
  await a;
  await settle();
  assert.deepEqual(resolved, ['a'], 'b and c wait for an fsync that started after they called');
  assert.equal(f.calls.length, 2);
  f.calls[1]?.done();
  await Promise.all([b, c]);
  assert.deepEqual(resolved.sort(), ['a', 'b', 'c']);
});

test('group commit: directories are independent; an idle directory syncs at once', async () => {
  const f = fakeFsync();
  const s = new DirSyncer(f.fsync);
  const a = s.sync('/q/incoming');
  const b = s.sync('/q/body');
  await settle();
  assert.deepEqual(f.calls.map((c) => c.dir), ['/q/incoming', '/q/body']);
  for (const c of f.calls) c.done();
  await Promise.all([a, b]);
  const c = s.sync('/q/incoming');
  await settle();
  assert.equal(f.calls.length, 3, 'after the first finished, a new call starts a new fsync');
  f.calls[2]?.done();
  await c;
});

test('group commit: an fsync error reaches every caller that joined it, and the next call tries again', async () => {
  const f = fakeFsync();
  const s = new DirSyncer(f.fsync);
  const a = s.sync('/q/d');
  await settle();
  const b = s.sync('/q/d');
  f.calls[0]?.fail(new Error('EIO'));
  await assert.rejects(a, /EIO/);
  await settle();
  f.calls[1]?.fail(new Error('EIO again'));
  await assert.rejects(b, /EIO again/);
  const c = s.sync('/q/d');
  await settle();
  f.calls[2]?.done();
  await c;
});
