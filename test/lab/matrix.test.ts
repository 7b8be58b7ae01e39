/**
 * The whole DANE scenario matrix, end to end: lab resolver, lab MX servers and
 * attacker proxies on 127.0.0.x, the real relay (inbound, queue, delivery
 * engine). One lab run; one test per scenario, named after its rules.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { runLab } from '../../src/lab/lab-runner.ts';
import type { ScenarioResult } from '../../src/lab/judge.ts';
import { allScenarios } from '../../src/lab/scenarios.ts';

const scenarios = allScenarios();
const results = new Map<string, ScenarioResult>();

describe('DANE lab matrix (RFC 7672, whole relay)', () => {
  before(async () => {
    for (const r of await runLab({ scenarios, timeoutMs: 60_000 })) results.set(r.name, r);
  });

  for (const s of scenarios) {
    test(`${s.rule}: ${s.name}: ${s.description}`, () => {
      const r = results.get(s.name);
      assert.ok(r, 'scenario ran');
      assert.equal(r.plaintextLeak, false, `plaintext leak: ${r.problems.join('; ')}`);
      assert.deepEqual(r.problems, [], `expected ${r.expected}; observed ${r.observed}; relay said: ${r.observation.outcome?.detail ?? 'nothing'}`);
    });
  }
});
