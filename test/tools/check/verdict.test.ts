/**
 * Verdicts of `dane-relay check` follow the delivery engine's walk
 * (deliver.ts): skipped hosts, the session limit, the first verified session,
 * the last reason when nothing is usable.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { addressVerdict, domainVerdict, isDaneFailure, relayOutcome, type Attempt, type Step } from '../../../src/tools/check/verdict.ts';

const open: Attempt = { kind: 'open' };
const failed = (dsn: string, reason: string, connected = true): Attempt =>
  ({ kind: 'failed', outcome: { kind: 'next-host', dsn, diagnostic: reason, cause: 'other' }, reason, connected });
const addr = (label: string, a: Attempt): Step => ({ kind: 'address', label, attempt: a });
const skip = (dsn: string, reason: string, permanent = false): Step => ({ kind: 'skip', dsn, reason, cause: 'other', permanent });

const MISMATCH = failed('4.7.5', 'Server certificate not verified');
const STRIPPED = failed('4.7.4', 'TLS is required, but was not offered by host mx[127.0.0.2]');
const REFUSED = failed('4.4.1', 'connect to mx[127.0.0.3]:25: Connection refused', false);

describe('check verdicts', () => {
  test('C14/C16/C4/C1: x.7.x and DNS lookup errors are DANE failures; network errors are not', () => {
    const table: Array<[string, boolean]> = [['4.7.5', true], ['4.7.4', true], ['5.7.1', true], ['4.4.3', true], ['4.4.1', false], ['4.4.2', false], ['5.4.4', false], ['4.2.0', false]];
    for (const [dsn, dane] of table) assert.equal(isDaneFailure(dsn), dane, dsn);
    assert.equal(addressVerdict(open), 'pass');
    assert.equal(addressVerdict(MISMATCH), 'fail');
    assert.equal(addressVerdict(REFUSED), 'error');
  });

  const cases: Array<{ name: string; steps: Step[]; limit?: number; verdict: string; dsn: string | null; reason: RegExp | null; via?: string }> = [
    { name: 'one verified address: pass', steps: [addr('a', open)], verdict: 'pass', dsn: null, reason: null, via: 'a' },
    { name: 'C16: mismatch only: fail 4.7.5 with the relay wording', steps: [addr('a', MISMATCH)], verdict: 'fail', dsn: '4.7.5', reason: /^Server certificate not verified$/ },
    { name: 'C14: stripped only: fail 4.7.4', steps: [addr('a', STRIPPED)], verdict: 'fail', dsn: '4.7.4', reason: /TLS is required, but was not offered/ },
    { name: 'C4: TLSA lookup error skip only: fail 4.7.5', steps: [skip('4.7.5', 'TLSA lookup error for mx:25')], verdict: 'fail', dsn: '4.7.5', reason: /TLSA lookup error for mx:25/ },
    { name: 'C16: primary mismatches, secondary verified: deliverable but degraded', steps: [addr('a', MISMATCH), addr('b', open)], verdict: 'degraded', dsn: '4.7.5', reason: /not verified/, via: 'b' },
    { name: 'unreachable primary, verified secondary: pass (not a DANE failure)', steps: [addr('a', REFUSED), addr('b', open)], verdict: 'pass', dsn: null, reason: null, via: 'b' },
    { name: 'everything unreachable: fail with the last reason', steps: [addr('a', REFUSED)], verdict: 'fail', dsn: '4.4.1', reason: /Connection refused/ },
    { name: 'session limit 2: two connected failures stop the walk before a usable third', steps: [addr('a', MISMATCH), addr('b', MISMATCH), addr('c', open)], limit: 2, verdict: 'fail', dsn: '4.7.5', reason: /not verified/ },
    { name: 'failures that never connected do not count toward the session limit', steps: [addr('a', REFUSED), addr('b', REFUSED), addr('c', open)], limit: 2, verdict: 'pass', dsn: null, reason: null, via: 'c' },
    { name: 'only permanent "host not found" skips: bounced 5.4.4', steps: [skip('5.4.4', 'Host or domain name not found', true)], verdict: 'fail', dsn: '5.4.4', reason: /not found/ },
    { name: 'no entries at all: deferred, no usable mail exchanger', steps: [], verdict: 'fail', dsn: '4.4.3', reason: /no usable mail exchanger for d\.test/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const v = domainVerdict(c.steps, c.limit ?? 2, 'd.test');
      assert.equal(v.verdict, c.verdict);
      assert.equal(v.dsn, c.dsn);
      if (c.reason) assert.match(v.reason ?? '', c.reason); else assert.equal(v.reason, null);
      assert.equal(v.deliverVia, c.via ?? null);
    });
  }

  test('a 5.x reply at session set-up is softened to 4.x when no host is left (core noHostLeft)', () => {
    const r = relayOutcome([addr('a', failed('5.3.0', 'host a said: 554 5.3.0 go away'))], 2, 'd.test');
    assert.equal(r.kind, 'refuse');
    if (r.kind === 'refuse') assert.equal(r.outcome.kind, 'deferred');
  });
});
