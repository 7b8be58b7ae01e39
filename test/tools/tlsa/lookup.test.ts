/**
 * `tlsa match --lookup` finds and classifies TLSA as the relay does
 * (outbound/host-lookup + core/dane-status): CNAME rule C11, C2, C4, C5.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsLookup, DnsResult, RecordType, TlsaRecord } from '../../../src/core/dns-result.ts';
import { lookupTlsa } from '../../../src/tools/tlsa/lookup.ts';

type Answer = DnsResult<unknown>;
const answered = (kind: 'secure' | 'insecure', qname: string, records: unknown[], canonicalName = qname): Answer =>
  ({ kind, qname, canonicalName, cnames: [], records }) as Answer;
const tlsa = (name: string): TlsaRecord => ({ type: 'TLSA', name, ttl: 300, usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32).fill(7) });
const nodata = (qname: string): Answer => ({ kind: 'nodata', secure: true, qname, canonicalName: qname, cnames: [] });

function fakeDns(table: Record<string, Answer>): DnsLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    lookup: async (name: string, type: RecordType) => {
      asked.push(`${name} ${type}`);
      return (table[`${name} ${type}`] ?? nodata(name)) as never;
    },
  };
}

const CNAME_HOST = {
  'mx.example A': answered('secure', 'mx.example', [{ type: 'A', name: 'mx.hosting.example', ttl: 300, address: '192.0.2.1' }], 'mx.hosting.example'),
};

describe('tlsa lookup (the relay\'s TLSA procedure)', () => {
  test('C11: a secure CNAME: TLSA at the expanded name first, its owner reported', async () => {
    const dns = fakeDns({ ...CNAME_HOST, '_25._tcp.mx.hosting.example TLSA': answered('secure', '_25._tcp.mx.hosting.example', [tlsa('_25._tcp.mx.hosting.example')]) });
    const r = await lookupTlsa(dns, 'mx.example', 25);
    assert.equal(r.kind, 'records');
    assert.equal(r.owner, '_25._tcp.mx.hosting.example');
    assert.equal(r.addressesSecure, true);
  });
  test('C11: nothing at the expanded name: falls back to the original name', async () => {
    const dns = fakeDns({ ...CNAME_HOST, '_25._tcp.mx.example TLSA': answered('secure', '_25._tcp.mx.example', [tlsa('_25._tcp.mx.example')]) });
    const r = await lookupTlsa(dns, 'mx.example', 25);
    assert.equal(r.kind, 'records');
    assert.equal(r.owner, '_25._tcp.mx.example');
  });
  test('C11/C4: a failure at the expanded name does not fall back: failure', async () => {
    const dns = fakeDns({
      ...CNAME_HOST,
      '_25._tcp.mx.hosting.example TLSA': { kind: 'failure', reason: 'servfail', qname: '_25._tcp.mx.hosting.example', detail: 'SERVFAIL' },
      '_25._tcp.mx.example TLSA': answered('secure', '_25._tcp.mx.example', [tlsa('_25._tcp.mx.example')]),
    });
    const r = await lookupTlsa(dns, 'mx.example', 25);
    assert.equal(r.kind, 'failure');
    assert.ok(!dns.asked.includes('_25._tcp.mx.example TLSA'), 'the original name is not asked after a failure');
  });
  test('C2: an insecure RRset is reported as insecure (ignored by the relay)', async () => {
    const dns = fakeDns({ '_25._tcp.mx.plain TLSA': answered('insecure', '_25._tcp.mx.plain', [tlsa('_25._tcp.mx.plain')]) });
    const r = await lookupTlsa(dns, 'MX.Plain.', 25);
    assert.equal(r.kind, 'insecure');
    assert.equal(r.owner, '_25._tcp.mx.plain');
    assert.equal(r.addressesSecure, false, 'no address records: the relay would not ask for TLSA (C10)');
  });
  test('C5/C12: a validated NODATA at the port asked: none', async () => {
    const r = await lookupTlsa(fakeDns({}), 'mx.example', 587);
    assert.equal(r.kind, 'none');
    assert.equal(r.owner, '_587._tcp.mx.example');
  });
});
