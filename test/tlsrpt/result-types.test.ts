import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsVerdict } from '../../src/core/tls-verdict.ts';
import { attemptResult, type AttemptFacts, type StsFetchFailure } from '../../src/tlsrpt/result-types.ts';

const OK: TlsVerdict = { state: 'Verified', authenticated: true, pkixTrusted: true };
const ANON_OK: TlsVerdict = { state: 'Untrusted', authenticated: true, pkixTrusted: false };
const DANE_FAIL: TlsVerdict = { state: 'Untrusted', authenticated: false, pkixTrusted: false, reason: 'no TLSA record matched' };
const NOT_TRUSTED: TlsVerdict = { state: 'Untrusted', authenticated: false, pkixTrusted: false, reason: 'certificate not trusted: certificate chain does not lead to a trusted CA' };
const EXPIRED: TlsVerdict = { state: 'Untrusted', authenticated: false, pkixTrusted: false, reason: 'certificate not trusted: certificate at depth 0 (CN=mx) has expired (notAfter 2020-01-01T00:00:00.000Z)' };
const MISMATCH: TlsVerdict = { state: 'Trusted', authenticated: false, pkixTrusted: true, reason: 'name mismatch: certificate names [evil.example] do not match [mx.example.com]' };

describe('RFC 8460 §4.3: what one attempt counts as', () => {
  const rows: Array<[string, AttemptFacts, boolean, StsFetchFailure | undefined, string]> = [
    ['a verified session is a success', { kind: 'tls', auth: 'dane', verdict: OK }, true, undefined, 'success'],
    ['opportunistic TLS without authentication is a success', { kind: 'tls', auth: 'none', verdict: ANON_OK }, false, undefined, 'success'],
    ['plaintext where TLS was optional is a success', { kind: 'no-tls' }, false, undefined, 'success'],
    ['§4.3.1: required TLS not established: starttls-not-supported', { kind: 'no-tls' }, true, undefined, 'starttls-not-supported'],
    ['§4.3.2.1: DANE mismatch: tlsa-invalid', { kind: 'tls', auth: 'dane', verdict: DANE_FAIL }, true, undefined, 'tlsa-invalid'],
    ['§4.3.2.1: TLSA lookup failed: dnssec-invalid', { kind: 'skipped', why: 'tlsa_lookup_failure' }, true, undefined, 'dnssec-invalid'],
    ['§4.3.2.1: dane-only without TLSA: dane-required', { kind: 'skipped', why: 'dane_required' }, true, undefined, 'dane-required'],
    ['§4.3.1: STS chain not trusted: certificate-not-trusted', { kind: 'tls', auth: 'pkix', verdict: NOT_TRUSTED }, true, undefined, 'certificate-not-trusted'],
    ['§4.3.1: STS certificate expired: certificate-expired', { kind: 'tls', auth: 'pkix', verdict: EXPIRED }, true, undefined, 'certificate-expired'],
    ['§4.3.1: STS impostor (trusted CA, wrong name): certificate-host-mismatch', { kind: 'tls', auth: 'pkix', verdict: MISMATCH }, true, undefined, 'certificate-host-mismatch'],
    ['§4.3.1: fingerprint mismatch: validation-failure', { kind: 'tls', auth: 'fingerprint', verdict: DANE_FAIL }, true, undefined, 'validation-failure'],
    ['RFC 8461 §4.1: MX outside the STS patterns: validation-failure', { kind: 'skipped', why: 'sts_mx_mismatch' }, true, undefined, 'validation-failure'],
    ['§4.3.2.2: STS policy fetch failed: the attempt reports it even when delivered', { kind: 'tls', auth: 'none', verdict: ANON_OK }, false, 'sts-policy-fetch-error', 'sts-policy-fetch-error'],
    ['§4.3.2.2: STS policy invalid', { kind: 'no-tls' }, false, 'sts-policy-invalid', 'sts-policy-invalid'],
    ['§4.3.2.2: STS policy host certificate invalid', { kind: 'no-tls' }, false, 'sts-webpki-invalid', 'sts-webpki-invalid'],
  ];
  for (const [title, facts, required, sts, expected] of rows) {
    test(title, () => {
      const r = attemptResult(facts, required, sts);
      assert.equal(r.kind === 'success' ? 'success' : r.resultType, expected);
    });
  }
});
