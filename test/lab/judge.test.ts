import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { judge, dsnMatches, leakReasons } from '../../src/lab/judge.ts';
import type { Observation } from '../../src/lab/judge.ts';
import type { Scenario } from '../../src/lab/scenario-types.ts';

const base: Scenario = {
  name: 's99-test', description: 'test', rule: 'C16', servers: [{ label: 'mx1', mode: 'starttls' }, { label: 'mx2', mode: 'starttls' }],
  expect: { status: 'sent', dsn: '2', tlsState: 'Verified', deliveredTo: 'mx2', sni: 'mx2' },
  build: () => Promise.resolve({ zones: [], chains: {} }),
};
const good: Observation = {
  outcome: { status: 'sent', dsn: '2.0.0', tlsState: 'Verified' },
  deliveries: [{ label: 'mx2', address: '127.0.0.3', secure: true, sni: 'mx2.s99-test.lab.test', certificate: 'x' }],
  injectionLogged: false,
};

describe('lab judge', () => {
  test('dsn matching is by dotted prefix', () => {
    assert.equal(dsnMatches('4.7', '4.7.5'), true);
    assert.equal(dsnMatches('4.7.5', '4.7.5'), true);
    assert.equal(dsnMatches('4.7', '4.4.2'), false);
    assert.equal(dsnMatches('5.1.10', '5.1.1'), false);
    assert.equal(dsnMatches('2', '2.6.0'), true);
  });

  test('a matching observation passes', () => {
    const r = judge(base, good);
    assert.deepEqual(r.problems, []);
    assert.equal(r.pass, true);
    assert.equal(r.plaintextLeak, false);
  });

  const failing: Array<{ why: string; o: Observation; leak: boolean; match: RegExp }> = [
    { why: 'no outcome', o: { ...good, outcome: undefined }, leak: false, match: /no delivery outcome/ },
    { why: 'wrong status', o: { ...good, outcome: { status: 'deferred', dsn: '4.7.5' }, deliveries: [] }, leak: false, match: /status deferred/ },
    { why: 'TLS state Trusted instead of Verified', o: { ...good, outcome: { status: 'sent', dsn: '2.0.0', tlsState: 'Trusted' } }, leak: false, match: /TLS state Trusted/ },
    { why: 'wrong SNI', o: { ...good, deliveries: [{ ...good.deliveries[0]!, sni: 'mx1.s99-test.lab.test' }] }, leak: false, match: /SNI/ },
    { why: 'plaintext where TLS was owed (C14)', o: { ...good, deliveries: [{ ...good.deliveries[0]!, secure: false, sni: null }] }, leak: true, match: /plaintext/ },
    { why: 'delivered to the server that failed verification (C16)', o: { ...good, deliveries: [{ ...good.deliveries[0]!, label: 'mx1' }] }, leak: true, match: /mx1, which must not/ },
  ];
  for (const f of failing) {
    test(`FAIL when ${f.why}`, () => {
      const r = judge(base, f.o);
      assert.equal(r.pass, false);
      assert.equal(r.plaintextLeak, f.leak);
      assert.match(r.problems.join('; '), f.match);
    });
  }

  test('a deferred scenario fails when the message reached any server', () => {
    const s: Scenario = { ...base, expect: { status: 'deferred', dsn: '4.7.5' } };
    const r = judge(s, { ...good, outcome: { status: 'deferred', dsn: '4.7.5' } });
    assert.equal(r.pass, false);
    assert.equal(r.plaintextLeak, true);
  });

  test('an attacker that read the message is a leak unless plaintext is allowed', () => {
    const proxy = { connections: 1, sawMessageInClear: true, startTlsCommands: 1, intercepted: 1, injected: 0 };
    assert.deepEqual(leakReasons({ status: 'sent', deliveredTo: 'mx2' }, { ...good, proxy }), ['the attacker proxy read the message']);
    assert.deepEqual(leakReasons({ status: 'sent', deliveredTo: 'mx2', plaintextAllowed: true }, { ...good, proxy }), []);
  });

  test('an attack scenario fails when the relay never went through the attacker', () => {
    const s: Scenario = { ...base, attacker: { mode: 'strip-starttls', target: 'mx2' } };
    const proxy = { connections: 0, sawMessageInClear: false, startTlsCommands: 0, intercepted: 0, injected: 0 };
    assert.match(judge(s, { ...good, proxy }).problems.join(), /never connected through the attacker/);
    assert.equal(judge(s, { ...good, proxy: { ...proxy, connections: 1 } }).pass, true);
  });

  test('C32: a required injection event must be logged', () => {
    const s: Scenario = { ...base, expect: { ...base.expect, injectionLogged: true } };
    assert.equal(judge(s, good).pass, false);
    assert.equal(judge(s, { ...good, injectionLogged: true }).pass, true);
  });
});
