/**
 * Bounded run of the hostile-MX surface (issue 19): a fixed seed, 40 random
 * MX behaviours against the real delivery path with secure DANE TLSA for the
 * good key. No crash, no hang past the deadline bound, no message to a
 * server that is not DANE-verified, no `sent` that the MX did not receive,
 * and no bounce. `npm run fuzz -- --surface mx --iterations N` runs more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { surface } from './mx-surface.ts';

test('issue 19 / C14 / C16: 40 hostile MX behaviours: 0 crashes, 0 hangs, 0 wrong deliveries, 0 lost', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const t = await surface.run({ iterations: 40, seed: 19_003, log: (l) => lines.push(l) });
  assert.equal(t.inputs, 40);
  assert.deepEqual(
    { crashes: t.crashes, hangs: t.hangs, wrongDeliveries: t.wrongDeliveries, lost: t.lost, failures: t.failures },
    { crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0, failures: [] },
  );
  assert.ok(lines.some((l) => / -> sent /.test(l)), 'some inputs were deliverable (the surface can see a delivery)');
  assert.ok(lines.some((l) => / -> deferred 4\.4\.2 /.test(l)), 'some inputs ended by a deadline or lost connection');
});
