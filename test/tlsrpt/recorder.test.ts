/**
 * TLSRPT recording of delivery attempts (RFC 8460 §4.3, §4.4; RFC 8461 §5):
 * what the engine reports for a refused host or a new session becomes the
 * stored attempt with the right policy type and result type; a failure
 * before any TLS question is not a TLS result; under MTA-STS `testing` the
 * presented chain is checked for the report only.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { parseStsPolicy } from '../../src/core/sts-policy.ts';
import type { PolicySkipReason, ReportPolicyType, SourcedPolicy, StsState } from '../../src/core/sts-precedence.ts';
import type { EffectivePolicy } from '../../src/core/effective-policy.ts';
import type { TlsVerdict } from '../../src/core/tls-verdict.ts';
import { createLabPki, type LabPki } from '../../src/lab/lab-pki.ts';
import { publicCaChain } from '../../src/lab/scenario-context.ts';
import { TlsrptRecorder, type AttemptSite, type SessionResult } from '../../src/tlsrpt/recorder.ts';
import type { TlsrptAttempt } from '../../src/tlsrpt/result-types.ts';

const P = parseStsPolicy('version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 600');
assert.ok(P.kind === 'policy');
const STS: StsState = { kind: 'policy', policy: P.policy, id: '1', from: 'fetched' };
const NONE: StsState = { kind: 'none', reason: 'no record' };

const connect = (over: Partial<Extract<EffectivePolicy, { kind: 'connect' }>>): EffectivePolicy => ({
  kind: 'connect', level: 'may', configuredLevel: 'dane', tlsRequired: false, tlsAttempt: true, auth: { kind: 'none' },
  sni: 'mx.example.com', tlsaBase: null, feature: 'dane:may', daneResult: 'not_applicable', reason: 'test', ...over,
});
const SKIP: EffectivePolicy = { kind: 'skip', dsn: '4.7.5', message: 'x', cause: 'sts_mx_mismatch', daneResult: 'not_applicable', level: 'dane' };

/** A site; `skip` sets the refusing policy's typed cause. */
function site(policy: EffectivePolicy, policyType: ReportPolicyType, skip: PolicySkipReason | null = null, sts: StsState = NONE, stsTesting: SourcedPolicy['stsTesting'] = null): AttemptSite {
  const p = skip !== null && policy.kind === 'skip' ? { ...policy, cause: skip } : policy;
  return { nextHop: 'example.com', mxHost: 'mx.example.com', ip: '192.0.2.7', sourced: { source: 'default', policy: p, policyType, stsTesting }, sts, dane: null };
}

function recorder(anchors: X509Certificate[] = []): { r: TlsrptRecorder; got: TlsrptAttempt[]; errors: Error[] } {
  const got: TlsrptAttempt[] = [];
  const errors: Error[] = [];
  const r = new TlsrptRecorder({ store: { record: async (a) => { got.push(a); } }, trustAnchors: anchors, now: () => Date.now(), onError: (e) => errors.push(e) });
  return { r, got, errors };
}

const result = (a: TlsrptAttempt | undefined): string => (a ? (a.result.kind === 'success' ? 'success' : a.result.resultType) : 'not recorded');
const verdict = (v: Partial<TlsVerdict>): TlsVerdict => ({ state: 'Verified', authenticated: true, pkixTrusted: true, ...v });

describe('TlsrptRecorder: refused hosts (typed skip reasons, RFC 8460 §4.3)', () => {
  const rows: Array<[PolicySkipReason, ReportPolicyType, string]> = [
    ['tlsa_lookup_failure', 'tlsa', 'dnssec-invalid'],
    ['dane_required', 'tlsa', 'dane-required'],
    ['sts_mx_mismatch', 'sts', 'validation-failure'],
    ['sts_policy_failure', 'sts', 'sts-policy-fetch-error'],
  ];
  for (const [why, type, expected] of rows) {
    test(`C4/RFC 8461: skip ${why} is recorded as ${expected} under ${type}`, async () => {
      const { r, got } = recorder();
      await r.skipped(site(SKIP, type, why));
      assert.equal(result(got[0]), expected);
      assert.equal(got[0]?.policyType, type);
    });
  }
});

describe('TlsrptRecorder: new sessions', () => {
  const pkix = connect({ level: 'secure', tlsRequired: true, auth: { kind: 'pkix', referenceNames: ['mx.example.com'] }, feature: 'sts' });
  const rows: Array<[string, EffectivePolicy, ReportPolicyType, SessionResult, string]> = [
    ['RFC 8461 §4.2: enforce, PKIX and name verified: success', pkix, 'sts', { kind: 'open', tls: { verdict: verdict({}) } }, 'success'],
    ['RFC 8460 §4.3.1: enforce, CA-signed certificate for another name: certificate-host-mismatch', pkix, 'sts',
      { kind: 'failed', tls: { verdict: verdict({ state: 'Trusted', authenticated: false, reason: 'name mismatch' }) } }, 'certificate-host-mismatch'],
    ['RFC 8460 §4.3.1: enforce, chain to no trusted root: certificate-not-trusted', pkix, 'sts',
      { kind: 'failed', tls: { verdict: verdict({ state: 'Untrusted', authenticated: false, pkixTrusted: false, reason: 'no chain' }) } }, 'certificate-not-trusted'],
    ['C14: required TLS not established: starttls-not-supported', pkix, 'sts', { kind: 'failed', tlsNotEstablished: true }, 'starttls-not-supported'],
    ['a connection failure is no TLS result: not recorded', pkix, 'sts', { kind: 'failed' }, 'not recorded'],
    ['C16: DANE mismatch: tlsa-invalid', connect({ level: 'dane', tlsRequired: true, auth: { kind: 'dane', records: [], referenceNames: [], halfDane: false }, feature: 'dane' }), 'tlsa',
      { kind: 'failed', tls: { verdict: verdict({ state: 'Untrusted', authenticated: false, reason: 'no match' }) } }, 'tlsa-invalid'],
    ['no policy, plaintext where TLS was optional: success', connect({}), 'no-policy-found', { kind: 'open', tls: null }, 'success'],
  ];
  for (const [title, policy, type, r, expected] of rows) {
    test(title, async () => {
      const { r: rec, got } = recorder();
      await rec.session(site(policy, type), r);
      assert.equal(result(got[0]), expected);
      if (got[0]) assert.equal(got[0].receivingIp, '192.0.2.7');
    });
  }

  test('reporting never stops delivery: a store error goes to onError, the call resolves', async () => {
    const errors: Error[] = [];
    const rec = new TlsrptRecorder({ store: { record: async () => { throw new Error('disk full'); } }, trustAnchors: [], onError: (e) => errors.push(e) });
    await rec.session(site(connect({}), 'no-policy-found'), { kind: 'open', tls: null });
    assert.deepEqual(errors.map((e) => e.message), ['disk full']);
  });
});

describe('TlsrptRecorder: MTA-STS testing is checked for the report only (RFC 8461 §5)', () => {
  let pki: LabPki;
  before(async () => { pki = await createLabPki(); });
  const testing = (mxAllowed: boolean): SourcedPolicy['stsTesting'] => ({ mxAllowed, auth: { kind: 'pkix', referenceNames: ['mx.example.com'] } });

  test('impostor (CA-signed, other name) under testing: certificate-host-mismatch, filed under sts', async () => {
    const chain = await publicCaChain(pki, ['impostor.example.com']);
    const { r, got } = recorder([pki.publicRoot.x509]);
    await r.session(site(connect({}), 'sts', null, STS, testing(true)), { kind: 'open', tls: { verdict: verdict({ state: 'Anonymous', pkixTrusted: false }), chain: { certificates: chain.map((c) => new Uint8Array(c.der)) } } });
    assert.equal(result(got[0]), 'certificate-host-mismatch');
    assert.equal(got[0]?.policyType, 'sts');
    assert.deepEqual(got[0]?.mxHost, ['*.example.com']);
  });
  test('right name under testing: success', async () => {
    const chain = await publicCaChain(pki, ['mx.example.com']);
    const { r, got } = recorder([pki.publicRoot.x509]);
    await r.session(site(connect({}), 'sts', null, STS, testing(true)), { kind: 'open', tls: { verdict: verdict({}), chain: { certificates: chain.map((c) => new Uint8Array(c.der)) } } });
    assert.equal(result(got[0]), 'success');
  });
  test('MX outside the patterns under testing: validation-failure (sts-mx-mismatch), although delivered', async () => {
    const { r, got } = recorder();
    await r.session(site(connect({}), 'sts', null, STS, testing(false)), { kind: 'open', tls: null });
    assert.equal(result(got[0]), 'validation-failure');
  });
});
