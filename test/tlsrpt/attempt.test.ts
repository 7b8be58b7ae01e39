import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsaRecord } from '../../src/core/dns-result.ts';
import { parseStsPolicy } from '../../src/core/sts-policy.ts';
import type { StsState } from '../../src/core/sts-precedence.ts';
import { tlsrptAttempt, type AttemptInput } from '../../src/tlsrpt/attempt.ts';

const P = parseStsPolicy('version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 600');
assert.ok(P.kind === 'policy');
const STS: StsState = { kind: 'policy', policy: P.policy, id: '1', from: 'cache' };
const TLSA: TlsaRecord = { type: 'TLSA', name: '_25._tcp.mx.example.com', ttl: 300, usage: 3, selector: 1, matchingType: 1, data: new Uint8Array([0xab, 0xcd]) };
const OK = { kind: 'tls' as const, auth: 'dane' as const, verdict: { state: 'Verified' as const, authenticated: true, pkixTrusted: false } };

function input(over: Partial<AttemptInput>): AttemptInput {
  return { at: 1, policyDomain: 'Example.com.', policyType: 'tlsa', sts: { kind: 'none', reason: 'x' }, tlsa: [TLSA], mxHost: 'MX.example.com.', receivingIp: '192.0.2.1', facts: OK, tlsRequired: true, ...over };
}

test('RFC 8460 §4.4: a TLSA-governed attempt carries the RRset as policy-string and the MX host', () => {
  const a = tlsrptAttempt(input({}));
  assert.deepEqual([a.policyDomain, a.policyType, a.policyStrings, a.mxHost, a.receivingMxHostname, a.result.kind], ['example.com', 'tlsa', ['3 1 1 abcd'], ['mx.example.com'], 'mx.example.com', 'success']);
});
test('RFC 8460 §4.4: an STS-governed attempt carries the policy lines and mx patterns', () => {
  const a = tlsrptAttempt(input({ policyType: 'sts', sts: STS, facts: { kind: 'no-tls' } }));
  assert.deepEqual(a.policyStrings, ['version: STSv1', 'mode: enforce', 'mx: *.example.com', 'max_age: 600']);
  assert.deepEqual(a.mxHost, ['*.example.com']);
  assert.equal(a.result.kind === 'failure' && a.result.resultType, 'starttls-not-supported');
});
test('RFC 8460 §4.3.2.2: a blocked policy fetch is filed under sts as sts-policy-fetch-error although delivery went on', () => {
  const a = tlsrptAttempt(input({ policyType: 'no-policy-found', tlsa: [], sts: { kind: 'none', reason: 'blocked', failure: 'sts-policy-fetch-error' }, facts: { kind: 'no-tls' }, tlsRequired: false }));
  assert.equal(a.policyType, 'sts');
  assert.equal(a.result.kind === 'failure' && a.result.resultType, 'sts-policy-fetch-error');
});
test('RFC 8461 §2: when DANE governed, an STS fetch failure does not turn the TLSA attempt into an STS failure', () => {
  const a = tlsrptAttempt(input({ sts: { kind: 'none', reason: 'blocked', failure: 'sts-policy-fetch-error' } }));
  assert.equal(a.policyType, 'tlsa');
  assert.equal(a.result.kind, 'success');
});
test('no policy: empty policy-string and mx-host', () => {
  const a = tlsrptAttempt(input({ policyType: 'no-policy-found', tlsa: [], facts: { kind: 'no-tls' }, tlsRequired: false }));
  assert.deepEqual([a.policyStrings, a.mxHost, a.result.kind], [[], [], 'success']);
});
