import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaneStatus } from '../../src/core/dane-status.ts';
import type { DestinationPolicy, EffectivePolicy, UsableTlsa } from '../../src/core/effective-policy.ts';
import { resolvePolicy, type HostFacts } from '../../src/core/policy.ts';
import { parseStsPolicy, type StsPolicy } from '../../src/core/sts-policy.ts';
import { skipReason, choosePolicySource, needsStsState, type StsState } from '../../src/core/sts-precedence.ts';
import type { TlsLevel } from '../../src/core/tls-level.ts';

const REC: UsableTlsa = { usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32).fill(9) };
const RECORDS: DaneStatus = { kind: 'records', base: 'mx.example.net', usable: [REC], rrset: [] };
const UNUSABLE: DaneStatus = { kind: 'unusable', base: 'mx.example.net', rrset: [] };
const NODATA: DaneStatus = { kind: 'not-applicable', why: 'nodata' };
const TEMPFAIL: DaneStatus = { kind: 'tempfail', detail: 'servfail' };

function stsPolicy(mode: string, mx = '*.example.net'): StsPolicy {
  const r = parseStsPolicy(`version: STSv1\nmode: ${mode}\nmx: ${mx}\nmax_age: 86400\n`);
  assert.ok(r.kind === 'policy');
  return r.policy;
}
const ENFORCE: StsState = { kind: 'policy', policy: stsPolicy('enforce'), id: 'a', from: 'fetched' };
const ENFORCE_OTHER_MX: StsState = { kind: 'policy', policy: stsPolicy('enforce', 'mx.other.example'), id: 'a', from: 'cache' };
const TESTING: StsState = { kind: 'policy', policy: stsPolicy('testing', 'mx.other.example'), id: 'a', from: 'fetched' };
const MODE_NONE: StsState = { kind: 'policy', policy: stsPolicy('none'), id: 'a', from: 'fetched' };
const NO_STS: StsState = { kind: 'none', reason: 'no v=STSv1 TXT record' };
const STS_TEMPFAIL: StsState = { kind: 'tempfail', detail: '_mta-sts.example.com: servfail' };

function base(level: TlsLevel, dane: DaneStatus | null, over: Partial<HostFacts> = {}): EffectivePolicy {
  const policy: DestinationPolicy = { level, fingerprints: [], match: [], insecureMxPolicy: 'dane', source: 'default' };
  return resolvePolicy(policy, { nextHop: 'example.com', mxHost: 'mx.example.net', port: 25, route: 'mx', mxSecure: true, addressesSecure: true, dane, ...over });
}

function summary(p: EffectivePolicy): string {
  if (p.kind === 'skip') return `skip ${p.dsn}`;
  const auth = p.auth.kind === 'pkix' ? `pkix[${p.auth.referenceNames.join(',')}]` : p.auth.kind;
  return `connect ${p.tlsRequired ? 'required' : 'optional'} ${auth} sni=${p.sni} feature=${p.feature}`;
}

describe('choosePolicySource: local table > DANE > MTA-STS enforce > level default', () => {
  // [title, localEntry, base, sts, expected source, expected summary, policyType, typed skip reason]
  type Row = [string, boolean, EffectivePolicy, StsState, string, string, string, string | null];
  const rows: Row[] = [
    ['RFC 8461 §2, C28: usable DANE TLSA governs even with an STS enforce policy', false, base('dane', RECORDS), ENFORCE,
      'dane', 'connect required dane sni=mx.example.net feature=dane', 'tlsa', null],
    ['RFC 8461 §2, C28: usable DANE TLSA governs even when the MX fails the STS mx patterns', false, base('dane', RECORDS), ENFORCE_OTHER_MX,
      'dane', 'connect required dane sni=mx.example.net feature=dane', 'tlsa', null],
    ['C4: a TLSA lookup failure is not rescued by STS enforce (skip stands)', false, base('dane', TEMPFAIL), ENFORCE,
      'dane', 'skip 4.7.5', 'tlsa', 'tlsa_lookup_failure'],
    ['C19: dane-only without TLSA is not rescued by STS enforce', false, base('dane-only', NODATA), ENFORCE,
      'dane', 'skip 4.7.5', 'tlsa', 'dane_required'],
    ['non-negotiable 6: a local table entry overrides STS (local may stays may)', true, base('may', null), ENFORCE,
      'local', 'connect optional none sni=mx.example.net feature=may', 'no-policy-found', null],
    ['RFC 8461 §4.2: enforce, no TLSA: TLS mandatory, PKIX + MX host name, SNI = MX host', false, base('dane', NODATA), ENFORCE,
      'sts', 'connect required pkix[mx.example.net] sni=mx.example.net feature=sts', 'sts', null],
    ['RFC 8461 §4.2: enforce replaces a level default of may', false, base('may', null), ENFORCE,
      'sts', 'connect required pkix[mx.example.net] sni=mx.example.net feature=sts', 'sts', null],
    ['RFC 8461 §4.2: enforce strengthens a secure-but-unusable TLSA RRset (C15 encrypt) to PKIX', false, base('dane', UNUSABLE), ENFORCE,
      'sts', 'connect required pkix[mx.example.net] sni=mx.example.net feature=sts', 'sts', null],
    ['RFC 8461 §4.2: enforce applies when the addresses are insecure (C10: no TLSA lookup)', false, base('dane', null, { addressesSecure: false }), ENFORCE,
      'sts', 'connect required pkix[mx.example.net] sni=mx.example.net feature=sts', 'sts', null],
    ['RFC 8461 §4.1: enforce and the MX matches no pattern: host not used (4.7.5)', false, base('dane', NODATA), ENFORCE_OTHER_MX,
      'sts', 'skip 4.7.5', 'sts', 'sts_mx_mismatch'],
    ['RFC 8461 §5: testing: the level default stands', false, base('dane', NODATA), TESTING,
      'default', 'connect optional none sni=mx.example.net feature=dane:may', 'sts', null],
    ['RFC 8461 §3.2: mode none: no policy', false, base('dane', NODATA), MODE_NONE,
      'default', 'connect optional none sni=mx.example.net feature=dane:may', 'no-policy-found', null],
    ['RFC 8461 §3.3: no STS policy: the level default', false, base('dane', NODATA), NO_STS,
      'default', 'connect optional none sni=mx.example.net feature=dane:may', 'no-policy-found', null],
    ['non-negotiable 1: STS TXT lookup failed, nothing cached: skip 4.4.3, never "no policy"', false, base('dane', NODATA), STS_TEMPFAIL,
      'sts', 'skip 4.4.3', 'sts', 'sts_policy_failure'],
    ['C28: STS TXT lookup failure does not matter when DANE governs', false, base('dane', RECORDS), STS_TEMPFAIL,
      'dane', 'connect required dane sni=mx.example.net feature=dane', 'tlsa', null],
    ['no STS, unusable TLSA: DANE encrypt, reported as tlsa', false, base('dane', UNUSABLE), NO_STS,
      'default', 'connect required none sni=mx.example.net feature=dane:encrypt', 'tlsa', null],
  ];
  for (const [title, localEntry, b, sts, source, expected, policyType, skip] of rows) {
    test(title, () => {
      const r = choosePolicySource({ localEntry, base: b, mxHost: 'MX.example.net.', sts });
      assert.equal(r.source, source);
      assert.equal(summary(r.policy), expected);
      assert.equal(r.policyType, policyType);
      assert.equal(skipReason(r), skip, 'typed skip reason');
    });
  }

  test('C28: when needsStsState is false, the decision is the same for every MTA-STS state (the lookup may be skipped)', () => {
    const states = [ENFORCE, ENFORCE_OTHER_MX, TESTING, MODE_NONE, NO_STS, STS_TEMPFAIL];
    let skippable = 0;
    for (const [, localEntry, b] of rows) {
      if (needsStsState(localEntry, b)) continue;
      skippable++;
      const first = choosePolicySource({ localEntry, base: b, mxHost: 'mx.example.net', sts: states[0]! });
      for (const sts of states) assert.deepEqual(choosePolicySource({ localEntry, base: b, mxHost: 'mx.example.net', sts }), first);
    }
    assert.ok(skippable >= 5, 'DANE, skip and local rows are covered');
    assert.equal(needsStsState(false, base('dane', NODATA)), true);
    assert.equal(needsStsState(false, base('dane', RECORDS)), false);
  });

  test('RFC 8461 §5: testing gives the caller the enforce check for the report, with the MX verdict', () => {
    const r = choosePolicySource({ localEntry: false, base: base('dane', NODATA), mxHost: 'mx.example.net', sts: TESTING });
    assert.deepEqual(r.stsTesting, { mxAllowed: false, auth: { kind: 'pkix', referenceNames: ['mx.example.net'] } });
    const enforce = choosePolicySource({ localEntry: false, base: base('dane', NODATA), mxHost: 'mx.example.net', sts: ENFORCE });
    assert.equal(enforce.stsTesting, null);
  });
  test('RFC 8461 §4.1: a skipped host under enforce says which patterns it failed', () => {
    const r = choosePolicySource({ localEntry: false, base: base('dane', NODATA), mxHost: 'mx.example.net', sts: ENFORCE_OTHER_MX });
    assert.ok(r.policy.kind === 'skip');
    assert.match(r.policy.message, /mx\.example\.net does not match MTA-STS policy mx \[mx\.other\.example\]/);
  });
});
