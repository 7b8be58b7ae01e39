/**
 * Bounded run of the `resolver` fault surface (issue 19; checklist C1/C4,
 * C15): every hostile variant at the MX, address and TLSA questions, then a
 * fast-check sample with a fixed seed. No crash, hang, wrong delivery or lost
 * message. Controls prove the oracle can see a delivery: a well-formed secure
 * TLSA denial does lower the level and the message reaches mx1 in plaintext.
 * Bound: about 120 deliveries of at most ~1 s each on loopback (DNS timeout
 * 300 ms); measured ~15 s here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HOSTILE_VARIANTS, type AnswerVariant } from '../../src/lab/hostile-answers.ts';
import { inputArb, runInputs } from './resolver-surface.ts';

type Input = Parameters<typeof runInputs>[0][number];
const SEED = 19_004;
const quiet = (): void => undefined;

function only(slot: keyof Input, variant: AnswerVariant, n = 1): Input {
  const honest = { variant: 'honest' as const, params: { n, bytes: new Uint8Array([1, 2, 3, 250, 0, 7]) } };
  return { MX: honest, A1: honest, A2: honest, TLSA1: honest, TLSA2: honest, [slot]: { ...honest, variant } };
}

test('C1/C4: every hostile answer at the MX, address and TLSA questions defers; nothing reaches the plaintext MX or the impostor', async () => {
  const inputs = [
    ...(['MX', 'A1', 'TLSA1'] as const).flatMap((slot) => HOSTILE_VARIANTS.map((v) => only(slot, v))),
    // both address questions hostile: the case that bounced 5.4.4 instead of deferring
    ...HOSTILE_VARIANTS.map((v) => ({ ...only('A1', v), A2: only('A2', v).A2 })),
  ];
  const { tally, delivered } = await runInputs(inputs, SEED, quiet);
  assert.equal(tally.inputs, inputs.length);
  assert.deepEqual({ crashes: tally.crashes, hangs: tally.hangs, wrongDeliveries: tally.wrongDeliveries, lost: tally.lost }, { crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0 }, tally.failures.join('\n'));
  assert.equal(delivered, 0);
});

test('control C5: a well-formed secure TLSA denial lowers the level, and the oracle sees the plaintext delivery as permitted', async () => {
  const inputs = [only('TLSA1', 'secure-nodata'), only('TLSA1', 'insecure'), only('MX', 'honest')];
  const { tally, delivered } = await runInputs(inputs, SEED, quiet);
  assert.equal(delivered, 2, 'the two lowered inputs reach mx1; the honest one is deferred');
  assert.equal(tally.wrongDeliveries + tally.lost + tally.crashes + tally.hangs, 0, tally.failures.join('\n'));
});

test('C1/C4: fast-check sample of hostile resolver answers (fixed seed) — 0 crashes, hangs, wrong deliveries, lost', async () => {
  const inputs = fc.sample(inputArb, { seed: SEED, numRuns: 40 });
  const { tally } = await runInputs(inputs, SEED, quiet);
  assert.equal(tally.inputs, 40);
  assert.deepEqual({ crashes: tally.crashes, hangs: tally.hangs, wrongDeliveries: tally.wrongDeliveries, lost: tally.lost }, { crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0 }, tally.failures.join('\n'));
});
