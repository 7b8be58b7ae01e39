/**
 * The inbound fuzz surface, short and bounded (issue 19): 300 generated
 * hostile SMTP sessions (fixed seed, so a failure replays with
 * `npm run fuzz -- --surface inbound --seed 19 --iterations 300`) against a
 * relay child process: no crash, no hang, no open relay or smuggled
 * message, no acknowledged message lost. About 15 s on a 2-core machine.
 * The long run: `npm run fuzz -- --surface inbound --iterations N`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { surface } from './inbound-surface.ts';
import { formatTable } from './run.ts';

const SEED = 19;
const ITERATIONS = 300;

test(`inbound fuzz (seed ${SEED}, ${ITERATIONS} sessions): 0 crashes, 0 hangs, 0 wrong deliveries, 0 lost`, { timeout: 120_000 }, async (t) => {
  const tally = await surface.run({ iterations: ITERATIONS, seed: SEED, log: (line) => t.diagnostic(line) });
  for (const line of formatTable([tally]).split('\n')) t.diagnostic(line);
  assert.equal(tally.inputs, ITERATIONS, 'every session was played');
  assert.deepEqual({ crashes: tally.crashes, hangs: tally.hangs, wrongDeliveries: tally.wrongDeliveries, lost: tally.lost, failures: tally.failures }, { crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0, failures: [] });
});
