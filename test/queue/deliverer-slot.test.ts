/**
 * On reload the scheduler swaps its delivery engine: new deliveries use the
 * new one at once, and the old one is handed back for closing only after its
 * running deliveries have finished.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelivererSlot } from '../../src/queue/deliverer-slot.ts';
import type { Deliverer } from '../../src/queue/deliverer.ts';

function engine(name: string): Deliverer & { name: string } {
  return { name, deliver: async () => [], close: async () => undefined };
}

test('deliverer slot: replace resolves only after the old engine\'s running deliveries finish', async () => {
  const oldEngine = engine('old');
  const newEngine = engine('new');
  const slot = new DelivererSlot(oldEngine);
  let finishRunning!: () => void;
  const running = slot.use((d) => new Promise<string>((resolve) => { finishRunning = () => resolve((d as typeof oldEngine).name); }));
  let replaced: Deliverer | undefined;
  const replacing = slot.replace(newEngine).then((d) => { replaced = d; });
  assert.equal(slot.current, newEngine, 'new deliveries use the new engine at once');
  assert.equal(await slot.use(async (d) => (d as typeof newEngine).name), 'new');
  await new Promise((r) => setImmediate(r));
  assert.equal(replaced, undefined, 'the old engine is still in use');
  finishRunning();
  assert.equal(await running, 'old');
  await replacing;
  assert.equal(replaced, oldEngine);
});

test('deliverer slot: a failing delivery still releases the engine', async () => {
  const oldEngine = engine('old');
  const slot = new DelivererSlot(oldEngine);
  await assert.rejects(slot.use(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await slot.replace(engine('new')), oldEngine);
});
