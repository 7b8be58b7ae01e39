import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsResult, TlsaRecord } from '../../src/core/dns-result.ts';
import { classifyTlsaAnswer, combineTlsaStatuses, tlsaCandidates, type DaneStatus } from '../../src/core/dane-status.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { pki } from './fixtures.ts';

const QNAME = '_25._tcp.mx.example.com';
const BASE = 'mx.example.com';

function tlsa(usage: number, selector: number, matchingType: number, data: Uint8Array): TlsaRecord {
  return { type: 'TLSA', name: QNAME, ttl: 300, usage, selector, matchingType, data };
}
function answered(kind: 'secure' | 'insecure', records: TlsaRecord[]): DnsResult<TlsaRecord> {
  return { kind, records, qname: QNAME, canonicalName: QNAME, cnames: [] };
}
function denial(kind: 'nxdomain' | 'nodata', secure: boolean): DnsResult<TlsaRecord> {
  return { kind, secure, qname: QNAME, canonicalName: QNAME, cnames: [] };
}

describe('classifyTlsaAnswer', () => {
  test('C1/C4: every failure reason is a tempfail, never "absent" or "insecure"', () => {
    for (const reason of ['servfail', 'refused', 'timeout', 'malformed', 'network', 'cname-loop', 'cname-limit', 'other-rcode'] as const) {
      const s = classifyTlsaAnswer({ kind: 'failure', reason, qname: QNAME, detail: 'x' }, BASE);
      assert.equal(s.kind, 'tempfail', reason);
      assert.match(s.kind === 'tempfail' ? s.detail : '', new RegExp(`${QNAME}: ${reason}`));
    }
  });

  test('C5: secure NXDOMAIN / NODATA mean "no TLSA records", not an error', () => {
    assert.deepEqual(classifyTlsaAnswer(denial('nxdomain', true), BASE), { kind: 'not-applicable', why: 'nxdomain' });
    assert.deepEqual(classifyTlsaAnswer(denial('nodata', true), BASE), { kind: 'not-applicable', why: 'nodata' });
  });

  test('C2: an insecure TLSA RRset, or an insecure denial, counts as no TLSA at all', async () => {
    const { leaf } = await pki();
    const good = tlsa(3, 1, 1, tlsaDataFor(leaf.der, 1, 1));
    assert.deepEqual(classifyTlsaAnswer(answered('insecure', [good]), BASE), { kind: 'not-applicable', why: 'insecure' });
    assert.deepEqual(classifyTlsaAnswer(denial('nxdomain', false), BASE), { kind: 'not-applicable', why: 'insecure' });
    assert.deepEqual(classifyTlsaAnswer(denial('nodata', false), BASE), { kind: 'not-applicable', why: 'insecure' });
  });

  test('C13: a secure RRset with a usable record gives records with the base domain and the whole RRset', async () => {
    const { leaf } = await pki();
    const good = tlsa(3, 1, 1, tlsaDataFor(leaf.der, 1, 1));
    const bad = tlsa(1, 1, 1, tlsaDataFor(leaf.der, 1, 1));
    const s = classifyTlsaAnswer(answered('secure', [bad, good]), BASE);
    assert.equal(s.kind, 'records');
    if (s.kind !== 'records') return;
    assert.equal(s.base, BASE);
    assert.equal(s.rrset.length, 2);
    assert.deepEqual(s.usable.map((r) => [r.usage, r.selector, r.matchingType]), [[3, 1, 1]]);
  });

  test('C15/C21/C27: a secure RRset with only unusable records (1 1 1, 4 x x, short digest) is "unusable", still a TLS signal', () => {
    const rrset = [tlsa(1, 1, 1, new Uint8Array(32)), tlsa(4, 1, 1, new Uint8Array(32)), tlsa(3, 1, 1, new Uint8Array(31))];
    const s = classifyTlsaAnswer(answered('secure', rrset), BASE);
    assert.equal(s.kind, 'unusable');
    assert.equal(s.kind === 'unusable' ? s.rrset.length : 0, 3);
  });

  test('C5: a secure answer with no TLSA records is treated as NODATA', () => {
    assert.deepEqual(classifyTlsaAnswer(answered('secure', []), BASE), { kind: 'not-applicable', why: 'nodata' });
  });
});

describe('tlsaCandidates and combineTlsaStatuses (C11, C12)', () => {
  test('C11/C12: a secure CNAME chain tries the expanded name first, then the original, on the connected port', () => {
    assert.deepEqual(tlsaCandidates(587, 'MX.Example.com.', { canonicalName: 'host.provider.net', secure: true }), [
      { owner: '_587._tcp.host.provider.net', base: 'host.provider.net' },
      { owner: '_587._tcp.mx.example.com', base: 'mx.example.com' },
    ]);
  });

  test('C11: an insecure CNAME chain, or no CNAME, gives only the original name', () => {
    assert.deepEqual(tlsaCandidates(25, 'mx.example.com', { canonicalName: 'host.provider.net', secure: false }), [{ owner: '_25._tcp.mx.example.com', base: 'mx.example.com' }]);
    assert.deepEqual(tlsaCandidates(25, 'mx.example.com', { canonicalName: 'mx.example.com', secure: true }), [{ owner: '_25._tcp.mx.example.com', base: 'mx.example.com' }]);
  });

  const records: DaneStatus = { kind: 'records', base: 'host.provider.net', usable: [], rrset: [] };
  const original: DaneStatus = { kind: 'records', base: 'mx.example.com', usable: [], rrset: [] };
  const none: DaneStatus = { kind: 'not-applicable', why: 'nodata' };
  const insecure: DaneStatus = { kind: 'not-applicable', why: 'insecure' };
  const fail: DaneStatus = { kind: 'tempfail', detail: 'servfail' };
  const cases: Array<[string, DaneStatus[], DaneStatus]> = [
    ['records at the expanded name win', [records, original], records],
    ['no TLSA at the expanded name falls back to the original name', [none, original], original],
    ['a tempfail at the expanded name does NOT fall back', [fail, original], fail],
    ['a tempfail at the original name after none at the expanded name is a tempfail', [none, fail], fail],
    ['all not-applicable gives the first', [insecure, none], insecure],
  ];
  for (const [name, statuses, expected] of cases) {
    test(`C11: ${name}`, () => assert.deepEqual(combineTlsaStatuses(statuses), expected));
  }

  test('combineTlsaStatuses with nothing to combine is a caller bug', () => {
    assert.throws(() => combineTlsaStatuses([]), /no TLSA status/);
  });
});
