import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyTlsaAnswer, type DaneStatus } from '../../src/core/dane-status.ts';
import type { DestinationPolicy, EffectivePolicy, UsableTlsa } from '../../src/core/effective-policy.ts';
import { featureStatus, needsTlsaLookup, pkixReferenceNames, resolvePolicy, type HostFacts } from '../../src/core/policy.ts';
import { TLS_LEVELS, type InsecureMxPolicy, type TlsLevel } from '../../src/core/tls-level.ts';
import type { TlsVerdict } from '../../src/core/tls-verdict.ts';

const REC: UsableTlsa = { usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32).fill(9) };
const RECORDS: DaneStatus = { kind: 'records', base: 'mx.example.net', usable: [REC], rrset: [] };
const UNUSABLE: DaneStatus = { kind: 'unusable', base: 'mx.example.net', rrset: [] };
const NODATA: DaneStatus = { kind: 'not-applicable', why: 'nodata' };
const NXDOMAIN: DaneStatus = { kind: 'not-applicable', why: 'nxdomain' };
const INSECURE: DaneStatus = { kind: 'not-applicable', why: 'insecure' };
const TEMPFAIL: DaneStatus = { kind: 'tempfail', detail: '_25._tcp.mx.example.net: servfail' };

function policy(level: TlsLevel, insecureMxPolicy: InsecureMxPolicy = 'dane', extra: Partial<DestinationPolicy> = {}): DestinationPolicy {
  return { level, fingerprints: [], match: [], insecureMxPolicy, source: 'default', ...extra };
}
function facts(over: Partial<HostFacts> = {}): HostFacts {
  return { nextHop: 'example.com', mxHost: 'mx.example.net', port: 25, route: 'mx', mxSecure: true, addressesSecure: true, dane: RECORDS, ...over };
}
function connectOf(p: EffectivePolicy): Extract<EffectivePolicy, { kind: 'connect' }> {
  assert.equal(p.kind, 'connect', JSON.stringify(p));
  return p as Extract<EffectivePolicy, { kind: 'connect' }>;
}

describe('resolvePolicy at the dane levels', () => {
  // [title, level, facts, expected summary]
  type Row = [string, TlsLevel, Partial<HostFacts>, InsecureMxPolicy, string];
  const rows: Row[] = [
    ['C14/C17: secure usable TLSA -> TLS mandatory, authenticate by TLSA', 'dane', {}, 'dane', 'connect dane required dane feature=dane dane=ok'],
    ['C15: secure RRset, no usable record -> TLS mandatory, not authenticated', 'dane', { dane: UNUSABLE }, 'dane', 'connect encrypt required none feature=dane:encrypt dane=unusable'],
    ['C5: TLSA securely absent (NODATA) -> may', 'dane', { dane: NODATA }, 'dane', 'connect may optional none feature=dane:may dane=not_applicable'],
    ['C5: TLSA securely absent (NXDOMAIN) -> may', 'dane', { dane: NXDOMAIN }, 'dane', 'connect may optional none feature=dane:may dane=not_applicable'],
    ['C2: TLSA insecure -> may', 'dane', { dane: INSECURE }, 'dane', 'connect may optional none feature=dane:may dane=insecure_chain'],
    ['C10: address records insecure -> no TLSA lookup, may', 'dane', { addressesSecure: false, dane: null }, 'dane', 'connect may optional none feature=dane:may dane=insecure_chain'],
    ['C4: TLSA lookup failure -> skip', 'dane', { dane: TEMPFAIL }, 'dane', 'skip 4.7.5 tempfail'],
    ['C4: TLSA lookup failure -> skip even with insecure MX and policy may', 'dane', { dane: TEMPFAIL, mxSecure: false }, 'may', 'skip 4.7.5 tempfail'],
    ['C8: insecure MX, secure TLSA, policy dane -> half-dane', 'dane', { mxSecure: false }, 'dane', 'connect dane required dane feature=dane:halfdane dane=ok'],
    ['C8: insecure MX, secure TLSA, policy encrypt -> encrypt', 'dane', { mxSecure: false }, 'encrypt', 'connect encrypt required none feature=dane:encrypt dane=ok'],
    ['C8: insecure MX, secure TLSA, policy may -> may', 'dane', { mxSecure: false }, 'may', 'connect may optional none feature=dane:may dane=ok'],
    ['C8/C15: insecure MX, unusable TLSA, policy dane -> encrypt', 'dane', { mxSecure: false, dane: UNUSABLE }, 'dane', 'connect encrypt required none feature=dane:encrypt dane=unusable'],
    ['C8: insecure MX, no TLSA -> may', 'dane', { mxSecure: false, dane: NODATA }, 'encrypt', 'connect may optional none feature=dane:may dane=not_applicable'],
    ['C9: implicit MX counts as a secure MX name (mxSecure ignored)', 'dane', { route: 'implicit', mxSecure: false, mxHost: 'example.com' }, 'may', 'connect dane required dane feature=dane dane=ok'],
    ['C9: a bracketed next hop counts as a secure MX name', 'dane', { route: 'bracketed', mxSecure: false, mxHost: 'relay.example.net', nextHop: 'relay.example.net' }, 'encrypt', 'connect dane required dane feature=dane dane=ok'],
    ['C19: dane-only with usable TLSA -> authenticate', 'dane-only', {}, 'dane', 'connect dane-only required dane feature=dane-only dane=ok'],
    ['C19/C15: dane-only with unusable TLSA -> skip', 'dane-only', { dane: UNUSABLE }, 'dane', 'skip 4.7.5 unusable'],
    ['C19: dane-only without TLSA -> skip', 'dane-only', { dane: NODATA }, 'dane', 'skip 4.7.5 not_applicable'],
    ['C19: dane-only with insecure TLSA -> skip', 'dane-only', { dane: INSECURE }, 'dane', 'skip 4.7.5 insecure_chain'],
    ['C19/C10: dane-only with insecure addresses -> skip', 'dane-only', { addressesSecure: false, dane: null }, 'dane', 'skip 4.7.5 insecure_chain'],
    ['C19/C4: dane-only with TLSA lookup failure -> skip', 'dane-only', { dane: TEMPFAIL }, 'dane', 'skip 4.7.5 tempfail'],
    ['C19/C8: dane-only, insecure MX, policy dane -> half-dane', 'dane-only', { mxSecure: false }, 'dane', 'connect dane-only required dane feature=dane-only:halfdane dane=ok'],
    ['C19/C8: dane-only, insecure MX, policy encrypt -> skip', 'dane-only', { mxSecure: false }, 'encrypt', 'skip 4.7.5 ok'],
    ['C19/C8: dane-only, insecure MX, policy may -> skip', 'dane-only', { mxSecure: false }, 'may', 'skip 4.7.5 ok'],
  ];
  const summary = (p: EffectivePolicy): string => p.kind === 'skip'
    ? `skip ${p.dsn} ${p.daneResult}`
    : `connect ${p.level} ${p.tlsRequired ? 'required' : 'optional'} ${p.auth.kind} feature=${p.feature} dane=${p.daneResult}`;
  for (const [title, level, over, mxPolicy, expected] of rows) {
    test(title, () => assert.equal(summary(resolvePolicy(policy(level, mxPolicy), facts(over))), expected));
  }

  test('C4: the skip says "TLSA lookup error for HOST:PORT" with dsn 4.7.5, never a downgrade', () => {
    const p = resolvePolicy(policy('dane'), facts({ dane: TEMPFAIL, port: 587 }));
    assert.deepEqual(p, { kind: 'skip', dsn: '4.7.5', message: 'TLSA lookup error for mx.example.net:587', cause: 'tlsa_lookup_failure', daneResult: 'tempfail', level: 'dane' });
  });

  test('C17: with usable TLSA the SNI is the TLSA base domain, not the MX host name', () => {
    const p = connectOf(resolvePolicy(policy('dane'), facts({ dane: { ...RECORDS, base: 'host.provider.net' } })));
    assert.equal(p.sni, 'host.provider.net');
    assert.equal(p.tlsaBase, 'host.provider.net');
  });

  test('C14/C24: DANE reference names are base, MX host and (secure MX) next hop; half-dane drops the next hop', () => {
    const secure = connectOf(resolvePolicy(policy('dane'), facts({ dane: { ...RECORDS, base: 'host.provider.net' } })));
    assert.deepEqual(secure.auth, { kind: 'dane', records: [REC], referenceNames: ['host.provider.net', 'mx.example.net', 'example.com'], halfDane: false });
    assert.equal(secure.tlsRequired, true);
    const half = connectOf(resolvePolicy(policy('dane'), facts({ mxSecure: false })));
    assert.deepEqual(half.auth, { kind: 'dane', records: [REC], referenceNames: ['mx.example.net'], halfDane: true });
  });

  test('C15: unusable TLSA keeps the TLSA base domain and sends SNI = MX host name', () => {
    const p = connectOf(resolvePolicy(policy('dane'), facts({ dane: UNUSABLE })));
    assert.deepEqual([p.level, p.configuredLevel, p.tlsaBase, p.sni, p.tlsRequired], ['encrypt', 'dane', 'mx.example.net', 'mx.example.net', true]);
  });

  test('C21: a secure RRset holding only 1 1 1 gives mandatory unauthenticated TLS, never DANE authentication', () => {
    const status = classifyTlsaAnswer({ kind: 'secure', qname: '_25._tcp.mx.example.net', canonicalName: '_25._tcp.mx.example.net', cnames: [],
      records: [{ type: 'TLSA', name: '_25._tcp.mx.example.net', ttl: 60, usage: 1, selector: 1, matchingType: 1, data: new Uint8Array(32) }] }, 'mx.example.net');
    const p = connectOf(resolvePolicy(policy('dane'), facts({ dane: status })));
    assert.deepEqual([p.level, p.tlsRequired, p.auth.kind, p.feature], ['encrypt', true, 'none', 'dane:encrypt']);
  });

  test('C10: needsTlsaLookup only at dane/dane-only with secure address records', () => {
    for (const level of TLS_LEVELS) {
      const dane = level === 'dane' || level === 'dane-only';
      assert.equal(needsTlsaLookup(policy(level), true), dane, level);
      assert.equal(needsTlsaLookup(policy(level), false), false, level);
    }
  });

  test('a dane level with secure addresses and no TLSA status is a caller bug', () => {
    assert.throws(() => resolvePolicy(policy('dane'), facts({ dane: null })), /needs a TLSA status/);
  });
});

describe('resolvePolicy at the other levels', () => {
  const rows: Array<[TlsLevel, boolean, boolean, string, string | null]> = [
    ['none', false, false, 'none', null],
    ['may', false, true, 'none', 'mx.example.net'],
    ['encrypt', true, true, 'none', 'mx.example.net'],
    ['fingerprint', true, true, 'fingerprint', 'mx.example.net'],
    ['verify', true, true, 'pkix', 'mx.example.net'],
    ['secure', true, true, 'pkix', 'mx.example.net'],
  ];
  for (const [level, required, attempt, auth, sni] of rows) {
    test(`level ${level}: tlsRequired=${required}, tlsAttempt=${attempt}, auth=${auth}, no TLSA involved`, () => {
      const p = connectOf(resolvePolicy(policy(level), facts({ dane: null, addressesSecure: false })));
      assert.deepEqual([p.level, p.configuredLevel, p.tlsRequired, p.tlsAttempt, p.auth.kind, p.sni, p.feature, p.daneResult, p.tlsaBase],
        [level, level, required, attempt, auth, sni, level, 'not_applicable', null]);
    });
  }

  test('verify defaults to match=hostname, secure to nexthop:dot-nexthop (Postfix)', () => {
    const verify = connectOf(resolvePolicy(policy('verify'), facts()));
    assert.deepEqual(verify.auth, { kind: 'pkix', referenceNames: ['mx.example.net'] });
    const secure = connectOf(resolvePolicy(policy('secure'), facts()));
    assert.deepEqual(secure.auth, { kind: 'pkix', referenceNames: ['example.com', '.example.com'] });
  });

  test('explicit match strategies and literal names are expanded', () => {
    assert.deepEqual(pkixReferenceNames(['hostname', 'nexthop', 'dot-nexthop', 'Mail.Example.org', '.example.net'], 'secure', { nextHop: 'example.com', mxHost: 'mx.example.net' }),
      ['mx.example.net', 'example.com', '.example.com', 'mail.example.org', '.example.net']);
  });

  test('fingerprint level carries the pinned digests', () => {
    const fingerprints = [{ algorithm: 'sha256' as const, digest: 'ab'.repeat(32) }];
    const p = connectOf(resolvePolicy(policy('fingerprint', 'dane', { fingerprints }), facts()));
    assert.deepEqual(p.auth, { kind: 'fingerprint', fingerprints });
  });

  test('no SNI for an IP-literal host', () => {
    assert.equal(connectOf(resolvePolicy(policy('encrypt'), facts({ mxHost: '192.0.2.1', route: 'bracketed' }))).sni, null);
    assert.equal(connectOf(resolvePolicy(policy('may'), facts({ mxHost: '2001:db8::1', route: 'bracketed' }))).sni, null);
  });
});

describe('featureStatus (tls=)', () => {
  const verified: TlsVerdict = { state: 'Verified', authenticated: true, pkixTrusted: false };
  const failed: TlsVerdict = { state: 'Untrusted', authenticated: false, pkixTrusted: false, reason: 'x' };
  const trustedHalf: TlsVerdict = { state: 'Trusted', authenticated: true, pkixTrusted: false };
  const none: TlsVerdict = { state: 'Untrusted', authenticated: true, pkixTrusted: false };
  type Row = [string, EffectivePolicy, { tls: boolean; verdict?: TlsVerdict; undecided?: boolean }, string];
  const dane = (over: Partial<HostFacts> = {}, mx: InsecureMxPolicy = 'dane', level: TlsLevel = 'dane'): EffectivePolicy => resolvePolicy(policy(level, mx), facts(over));
  const rows: Row[] = [
    ['DANE verified', dane(), { tls: true, verdict: verified }, 'dane'],
    ['DANE authentication failed (C16)', dane(), { tls: true, verdict: failed }, '!dane'],
    ['DANE, required TLS not established (C14)', dane(), { tls: false }, '!dane'],
    ['half-dane', dane({ mxSecure: false }), { tls: true, verdict: trustedHalf }, 'dane:halfdane'],
    ['dane downgraded to encrypt by unusable TLSA (C15)', dane({ dane: UNUSABLE }), { tls: true, verdict: none }, 'dane:encrypt'],
    ['dane as may with TLS', dane({ dane: NODATA }), { tls: true, verdict: none }, 'dane:may'],
    ['dane as may without STARTTLS', dane({ dane: NODATA }), { tls: false }, 'dane:none'],
    ['TLSA lookup failure (C4)', dane({ dane: TEMPFAIL }), { tls: false }, 'dane?'],
    ['dane-only refused the host (C19)', dane({ dane: NODATA }, 'dane', 'dane-only'), { tls: false }, '!dane-only'],
    ['may without STARTTLS', resolvePolicy(policy('may'), facts()), { tls: false }, 'may:none'],
    ['may with TLS', resolvePolicy(policy('may'), facts()), { tls: true, verdict: none }, 'may'],
    ['none', resolvePolicy(policy('none'), facts()), { tls: false }, 'none'],
    ['encrypt without STARTTLS', resolvePolicy(policy('encrypt'), facts()), { tls: false }, '!encrypt'],
    ['encrypt, connection failed before TLS', resolvePolicy(policy('encrypt'), facts()), { tls: false, undecided: true }, 'encrypt?'],
    ['fingerprint mismatch', resolvePolicy(policy('fingerprint'), facts()), { tls: true, verdict: failed }, '!fingerprint'],
    ['secure verified', resolvePolicy(policy('secure'), facts()), { tls: true, verdict: verified }, 'secure'],
    ['verify without a verdict counts as not authenticated', resolvePolicy(policy('verify'), facts()), { tls: true }, '!verify'],
  ];
  for (const [title, p, session, expected] of rows) {
    test(`tls=${expected}: ${title}`, () => assert.equal(featureStatus(p, session), expected));
  }
});
