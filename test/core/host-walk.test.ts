/**
 * core/host-walk: what per-host results mean for the message, as a truth table
 * (Postfix smtp_trouble.c; RFC 5321 §5.1; RFC 7672 C4, C14, C16).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RefusalCause } from '../../src/core/refusal-cause.ts';
import { endOfWalk, foldHostWalk, nextMove, recordHost, startHostWalk, type HostResult } from '../../src/core/host-walk.ts';

const failed = (dsn: string, diagnostic: string, connected = true, cause: RefusalCause = 'tlsa_mismatch'): HostResult =>
  ({ kind: 'failed', outcome: { kind: 'next-host', dsn, diagnostic, cause }, connected, relay: 'mx[192.0.2.1]:25' });
const skipped = (dsn: string, reason: string, permanent = false, cause: RefusalCause = 'tlsa_lookup_failure'): HostResult => ({ kind: 'skipped', dsn, reason, cause, permanent });
const USED: HostResult = { kind: 'used' };
const MISMATCH = failed('4.7.5', 'Server certificate not verified');
const STRIPPED = failed('4.7.4', 'TLS is required, but was not offered');
const REFUSED = failed('4.4.1', 'connect to mx[127.0.0.3]:25: Connection refused', false);
const TLSA_ERROR = skipped('4.7.5', 'TLSA lookup error for mx:25');
const NOT_FOUND = skipped('5.4.4', 'Host or domain name not found', true);
const NO_DANE = skipped('5.7.30', 'REQUIRETLS: host mx is not authenticated by DANE', true, 'requiretls_unavailable');
const NO_REQUIRETLS: HostResult = { kind: 'failed', outcome: { kind: 'next-host', dsn: '5.7.30', diagnostic: 'REQUIRETLS: host mx does not offer REQUIRETLS', cause: 'requiretls_unavailable' }, connected: true, permanent: true };
const LOOP = skipped('5.4.6', 'mail for d.test loops back to myself', true, 'mail_loop');

describe('host walk: table', () => {
  const rows: Array<{ name: string; results: HostResult[]; limit?: number; kind: 'used' | 'bounce' | 'defer'; index?: number; dsn?: string; outcome?: string; diag?: RegExp }> = [
    { name: 'first host used: the walk ends there', results: [USED, MISMATCH], kind: 'used', index: 0 },
    { name: 'C16: mismatch tries the next host, which is used', results: [MISMATCH, USED], kind: 'used', index: 1 },
    { name: 'C16: mismatch everywhere defers 4.7.5, never bounces', results: [MISMATCH, MISMATCH], kind: 'defer', dsn: '4.7.5', outcome: 'deferred', diag: /not verified/ },
    { name: 'C14: STARTTLS stripped on the only host defers 4.7.4', results: [STRIPPED], kind: 'defer', dsn: '4.7.4', outcome: 'deferred' },
    { name: 'C4: TLSA lookup error skips the host, next host used', results: [TLSA_ERROR, USED], kind: 'used', index: 1 },
    { name: 'C4: TLSA lookup error on every host defers 4.7.5', results: [TLSA_ERROR], kind: 'defer', dsn: '4.7.5', outcome: 'deferred', diag: /TLSA lookup error/ },
    { name: 'the last reason wins: refused, then mismatch defers 4.7.5', results: [REFUSED, MISMATCH], kind: 'defer', dsn: '4.7.5', outcome: 'deferred' },
    { name: 'mx_session_limit 2: two connected failures stop before a usable third', results: [MISMATCH, MISMATCH, USED], limit: 2, kind: 'defer', dsn: '4.7.5' },
    { name: 'mx_session_limit: failures that never connected do not count', results: [REFUSED, REFUSED, USED], limit: 2, kind: 'used', index: 2 },
    { name: 'mx_session_limit 0: no limit', results: [MISMATCH, MISMATCH, MISMATCH, USED], limit: 0, kind: 'used', index: 3 },
    { name: 'mx_session_limit: a skip after the limit still gives the last reason', results: [MISMATCH, TLSA_ERROR, USED], limit: 1, kind: 'defer', dsn: '4.7.5', diag: /TLSA lookup error/ },
    { name: 'every entry a permanent "host not found": bounce 5.4.4', results: [NOT_FOUND, NOT_FOUND], kind: 'bounce', dsn: '5.4.4', outcome: 'bounced', diag: /not found/ },
    { name: 'one permanent skip and one TLS failure: defer (C16 never bounces)', results: [NOT_FOUND, MISMATCH], kind: 'defer', dsn: '4.7.5', outcome: 'deferred' },
    { name: 'a TLS failure then a permanent skip: defer, lowered to 4.4.4', results: [MISMATCH, NOT_FOUND], kind: 'defer', dsn: '4.4.4', outcome: 'deferred', diag: /not found/ },
    { name: 'a 5.x session failure is lowered to 4.x when no host is left', results: [failed('5.3.0', 'said: 554 5.3.0 go away')], kind: 'defer', dsn: '4.3.0', outcome: 'deferred' },
    { name: 'RFC 8689 §4.2.1: REQUIRETLS refused by the first host (soft), the next host used', results: [NO_REQUIRETLS, USED], kind: 'used', index: 1 },
    { name: 'RFC 8689 §4.2.1: every host refuses REQUIRETLS (no DANE, not offered): bounce 5.7.30', results: [NO_DANE, NO_REQUIRETLS], kind: 'bounce', dsn: '5.7.30', outcome: 'bounced', diag: /REQUIRETLS/ },
    { name: 'RFC 8689: REQUIRETLS refused, another host unreachable: defer (it may offer REQUIRETLS later)', results: [NO_REQUIRETLS, REFUSED], kind: 'defer', dsn: '4.4.1', outcome: 'deferred' },
    { name: 'RFC 5321 §5.1: the only host is ourselves: bounce 5.4.6', results: [LOOP], kind: 'bounce', dsn: '5.4.6', outcome: 'bounced', diag: /loops back to myself/ },
    { name: 'no entries at all: defer 4.4.3, no usable mail exchanger', results: [], kind: 'defer', dsn: '4.4.3', outcome: 'deferred', diag: /no usable mail exchanger for d\.test/ },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const end = foldHostWalk(r.results, r.limit ?? 2, 'd.test');
      assert.equal(end.kind, r.kind);
      if (end.kind === 'used') { assert.equal(end.index, r.index); return; }
      assert.equal(end.outcome.dsn, r.dsn);
      if (r.outcome) assert.equal(end.outcome.kind, r.outcome);
      if (r.diag) assert.match(end.outcome.kind === 'sent' ? '' : end.outcome.diagnostic, r.diag);
    });
  }
});

describe('host walk: steps', () => {
  test('the session limit applies before a host, never before a skip entry (a skip opens nothing)', () => {
    const w = recordHost(startHostWalk(), MISMATCH);
    assert.deepEqual(nextMove(w, 'host', 1), { kind: 'stop', why: 'session-limit' });
    assert.deepEqual(nextMove(w, 'skip', 1), { kind: 'go' });
    assert.deepEqual(nextMove(w, 'host', 2), { kind: 'go' });
  });
  test('a used host stops the walk', () => {
    assert.deepEqual(nextMove(recordHost(startHostWalk(), USED), 'skip', 0), { kind: 'stop', why: 'used' });
  });
  test('the deferral carries the reason of the last host tried (smtp_trouble.c)', () => {
    const w = [MISMATCH, REFUSED].reduce(recordHost, startHostWalk());
    const end = endOfWalk(w, 'd.test');
    assert.equal(end.kind, 'defer');
    assert.equal(end.outcome.dsn, '4.4.1');
  });
});
