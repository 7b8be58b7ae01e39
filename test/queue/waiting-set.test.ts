import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaitingSet } from '../../src/queue/waiting-set.ts';

test('waiting set: takes entries in due order, ties in insertion order, only when due', () => {
  const w = new WaitingSet<{ due: number; tag: string }>();
  w.set('c', { due: 30, tag: 'c' });
  w.set('a', { due: 10, tag: 'a' });
  w.set('b1', { due: 20, tag: 'b1' });
  w.set('b2', { due: 20, tag: 'b2' });
  assert.equal(w.minDue(), 10);
  assert.equal(w.takeDue(5), undefined);
  assert.deepEqual([w.takeDue(25)?.[0], w.takeDue(25)?.[0], w.takeDue(25)?.[0], w.takeDue(25)?.[0]], ['a', 'b1', 'b2', undefined]);
  assert.equal(w.size, 1);
  assert.equal(w.minDue(), 30);
});

test('waiting set: set replaces an entry (old position ignored), delete removes it, makeDue brings later ones forward', () => {
  const w = new WaitingSet<{ due: number }>();
  w.set('x', { due: 10 });
  w.set('x', { due: 100 });
  w.set('y', { due: 50 });
  assert.equal(w.minDue(), 50, 'the replaced due time of x no longer counts');
  w.delete('y');
  assert.equal(w.minDue(), 100);
  assert.equal(w.has('y'), false);
  w.set('z', { due: 200 });
  w.makeDue(60);
  assert.equal(w.minDue(), 60);
  assert.deepEqual([w.takeDue(60)?.[0], w.takeDue(60)?.[0], w.takeDue(60)], ['x', 'z', undefined]);
});

test('waiting set: 100,000 entries are drained in due order', () => {
  const w = new WaitingSet<{ due: number }>();
  const n = 100_000;
  for (let i = 0; i < n; i++) w.set(`m${i}`, { due: (i * 7919) % n });
  let last = -1;
  let count = 0;
  for (let t = w.takeDue(n); t; t = w.takeDue(n)) {
    assert.ok(t[1].due >= last);
    last = t[1].due;
    count++;
  }
  assert.equal(count, n);
});
