import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { afterFetch, planSts, type CachedStsPolicy, type StsFetchOutcome, type StsTxtOutcome } from '../../src/core/sts-cache-rules.ts';
import { parseStsPolicy, type StsPolicy } from '../../src/core/sts-policy.ts';

const H = 3_600_000;
function policy(mode = 'enforce', maxAge = 86400): StsPolicy {
  const r = parseStsPolicy(`version: STSv1\nmode: ${mode}\nmx: mx.example.com\nmax_age: ${maxAge}`);
  assert.ok(r.kind === 'policy');
  return r.policy;
}
const T0 = 1_000_000_000_000;
const CACHED: CachedStsPolicy = { domain: 'example.com', id: 'old', policy: policy(), fetchedAt: T0, expiresAt: T0 + 24 * H };
const REC_OLD: StsTxtOutcome = { kind: 'record', id: 'old' };
const REC_NEW: StsTxtOutcome = { kind: 'record', id: 'new' };
const NONE: StsTxtOutcome = { kind: 'none', reason: 'no v=STSv1 TXT record' };
const FAIL: StsTxtOutcome = { kind: 'tempfail', detail: 'servfail' };

function plan(cached: CachedStsPolicy | null, txt: StsTxtOutcome, now: number): string {
  const p = planSts(cached, txt, now, 6 * H);
  if (p.kind === 'fetch') return `fetch ${p.id}`;
  const s = p.state;
  return `${s.kind === 'policy' ? `policy ${s.from}` : s.kind}${p.refresh ? ' refresh' : ''}`;
}

describe('planSts: RFC 8461 §3.3 and §5.1 cache rules', () => {
  const rows: Array<[string, CachedStsPolicy | null, StsTxtOutcome, number, string]> = [
    ['§3.3: unchanged id and a valid cache: use the cache, no fetch', CACHED, REC_OLD, T0 + H, 'policy cache'],
    ['§3.3: a changed id: fetch now', CACHED, REC_NEW, T0 + H, 'fetch new'],
    ['§3.3: TXT stripped while a policy is cached: the cached policy is still enforced', CACHED, NONE, T0 + H, 'policy cache'],
    ['§3.3: TXT lookup failed while a policy is cached: the cached policy applies', CACHED, FAIL, T0 + H, 'policy cache'],
    ['§10.2: within the refresh window before expiry: use the cache and refresh', CACHED, REC_OLD, T0 + 19 * H, 'policy cache refresh'],
    ['§10.2: just before the refresh window: no refresh yet', CACHED, REC_OLD, T0 + 17 * H, 'policy cache'],
    ['§3.3: TXT stripped inside the refresh window: still enforced, refresh attempted', CACHED, NONE, T0 + 20 * H, 'policy cache refresh'],
    ['§3.3: an expired cache with the same id: fetch', CACHED, REC_OLD, T0 + 24 * H, 'fetch old'],
    ['§3.3: an expired cache and the TXT gone: no policy', CACHED, NONE, T0 + 25 * H, 'none'],
    ['§3.3: first contact with a record: fetch', null, REC_NEW, T0, 'fetch new'],
    ['§3.1: first contact, no record: no policy', null, NONE, T0, 'none'],
    ['non-negotiable 1: first contact, TXT lookup failed: tempfail, never "no policy"', null, FAIL, T0, 'tempfail'],
  ];
  for (const [title, cached, txt, now, expected] of rows) test(title, () => assert.equal(plan(cached, txt, now), expected));

  test('§10.2: a short max_age refreshes at half its lifetime, not 6 h before', () => {
    const short: CachedStsPolicy = { ...CACHED, expiresAt: T0 + 2 * H };
    assert.equal(plan(short, REC_OLD, T0 + 0.9 * H), 'policy cache');
    assert.equal(plan(short, REC_OLD, T0 + 1 * H), 'policy cache refresh');
  });
});

describe('afterFetch: RFC 8461 §3.3', () => {
  const GOOD: StsFetchOutcome = { kind: 'policy', policy: policy('testing', 600) };
  const FETCH_ERR: StsFetchOutcome = { kind: 'failure', result: 'sts-policy-fetch-error', reason: 'connect timeout' };
  test('§3.3: a fetched policy replaces the cache with expiry now + max_age', () => {
    const r = afterFetch('example.com', CACHED, 'new', GOOD, T0 + H);
    assert.deepEqual(r.store, { domain: 'example.com', id: 'new', policy: GOOD.kind === 'policy' ? GOOD.policy : null, fetchedAt: T0 + H, expiresAt: T0 + H + 600_000 });
    assert.equal(r.state.kind === 'policy' && r.state.from, 'fetched');
  });
  test('§8.3: a fetched mode none policy is stored too (how a domain withdraws)', () => {
    const r = afterFetch('example.com', CACHED, 'new', { kind: 'policy', policy: policy('none') }, T0 + H);
    assert.equal(r.store?.policy.mode, 'none');
  });
  test('§3.3: fetch blocked while a valid policy is cached: the cached policy is kept, nothing written', () => {
    const r = afterFetch('example.com', CACHED, 'new', FETCH_ERR, T0 + H);
    assert.equal(r.store, null);
    assert.deepEqual(r.state, { kind: 'policy', policy: CACHED.policy, id: 'old', from: 'cache' });
  });
  test('§3.3: fetch blocked on first contact: no policy, the failure is kept for TLSRPT', () => {
    const r = afterFetch('example.com', null, 'new', FETCH_ERR, T0);
    assert.equal(r.store, null);
    assert.equal(r.state.kind, 'none');
    assert.equal(r.state.kind === 'none' && r.state.failure, 'sts-policy-fetch-error');
  });
  test('§3.3: an invalid policy with an expired cache: no policy, reported sts-policy-invalid', () => {
    const r = afterFetch('example.com', CACHED, 'new', { kind: 'failure', result: 'sts-policy-invalid', reason: 'no mode' }, T0 + 48 * H);
    assert.equal(r.state.kind === 'none' && r.state.failure, 'sts-policy-invalid');
  });
});
