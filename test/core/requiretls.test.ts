import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { relaxForTlsRequiredNo, requireTlsHost, requireTlsSession } from '../../src/core/requiretls.ts';
import type { EffectivePolicy, PeerAuthentication } from '../../src/core/effective-policy.ts';

const dane = (halfDane: boolean): PeerAuthentication => ({ kind: 'dane', records: [], referenceNames: ['mx.example'], halfDane });

describe('RFC 8689 §4.2.1: which hosts may carry a REQUIRETLS message', () => {
  const hosts: Array<[string, PeerAuthentication, 'ok' | 'refuse']> = [
    ['DANE with usable TLSA, secure MX', dane(false), 'ok'],
    ['half-DANE (insecure MX, C8): not securely looked up', dane(true), 'refuse'],
    ['no TLSA: opportunistic', { kind: 'none' }, 'refuse'],
    ['PKIX verify level (no DANE, no MTA-STS yet)', { kind: 'pkix', referenceNames: ['mx.example'] }, 'refuse'],
    ['fingerprint pin', { kind: 'fingerprint', fingerprints: [] }, 'refuse'],
  ];
  for (const [name, auth, want] of hosts) {
    test(`${name} → ${want}${want === 'refuse' ? ' (5.7.30 once every host is tried)' : ''}`, () => {
      const r = requireTlsHost(auth, 'mx.example');
      assert.equal(r.kind, want);
      if (r.kind === 'refuse') assert.equal(r.dsn, '5.7.30');
    });
  }

  const sessions: Array<[string, Parameters<typeof requireTlsSession>[0], boolean, 'ok' | 'refuse']> = [
    ['Verified and REQUIRETLS offered', 'Verified', true, 'ok'],
    ['Verified, REQUIRETLS stripped from the EHLO or not offered', 'Verified', false, 'refuse'],
    ['Trusted (half-DANE) even with REQUIRETLS', 'Trusted', true, 'refuse'],
    ['Untrusted', 'Untrusted', true, 'refuse'],
    ['plaintext', null, true, 'refuse'],
  ];
  for (const [name, state, offers, want] of sessions) {
    test(`RFC 8689 §4.2.1 session: ${name} → ${want}`, () => assert.equal(requireTlsSession(state, offers, 'mx.example').kind, want));
  }
});

describe('RFC 8689 §4.2: TLS-Required: No relaxes one message to opportunistic TLS', () => {
  test('dane-verified policy becomes may, TLS attempted, not required, no authentication', () => {
    const p: Extract<EffectivePolicy, { kind: 'connect' }> = {
      kind: 'connect', level: 'dane', configuredLevel: 'dane', tlsRequired: true, tlsAttempt: true, auth: dane(false),
      sni: 'mx.example', tlsaBase: 'mx.example', feature: 'dane', daneResult: 'ok', reason: 'usable TLSA',
    };
    const r = relaxForTlsRequiredNo(p);
    assert.deepEqual([r.level, r.tlsRequired, r.tlsAttempt, r.auth.kind, r.feature], ['may', false, true, 'none', 'dane:tls-required-no']);
    assert.equal(p.level, 'dane', 'the host policy itself is not changed');
  });
});
