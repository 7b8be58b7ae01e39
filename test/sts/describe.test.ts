import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStsPolicy } from '../../src/core/sts-policy.ts';
import type { SourcedPolicy } from '../../src/core/sts-precedence.ts';
import { describeSourcedPolicy, describeStsState } from '../../src/sts/describe.ts';

const P = parseStsPolicy('version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 600');
assert.ok(P.kind === 'policy');

test('check: the STS state in one line per kind', () => {
  assert.equal(describeStsState('example.com', { kind: 'policy', policy: P.policy, id: '7', from: 'cache' }), 'MTA-STS example.com: id 7 (cache), mode enforce, mx [*.example.com], max_age 600s');
  assert.equal(describeStsState('example.com', { kind: 'none', reason: 'policy fetch failed: reset', failure: 'sts-policy-fetch-error' }), 'MTA-STS example.com: no policy (policy fetch failed: reset) [reported as sts-policy-fetch-error]');
  assert.match(describeStsState('example.com', { kind: 'tempfail', detail: 'servfail' }), /TXT lookup failed \(servfail\)/);
});

test('check: the policy-source decision with policy_type, and the testing note', () => {
  const s: SourcedPolicy = {
    source: 'default', policyType: 'sts', stsTesting: { mxAllowed: false, auth: { kind: 'pkix', referenceNames: ['mx.other.example'] } },
    policy: { kind: 'connect', level: 'may', configuredLevel: 'dane', tlsRequired: false, tlsAttempt: true, auth: { kind: 'none' }, sni: 'mx.other.example', tlsaBase: null, feature: 'dane:may', daneResult: 'not_applicable', reason: 'no secure TLSA records' },
  };
  assert.equal(describeSourcedPolicy('mx.other.example', s), 'mx.other.example: policy_type=sts source=default -> connect tls=dane:may: no secure TLSA records [MTA-STS testing: mx does NOT match; reported only]');
});
