/**
 * The address step's bounce-vs-defer decision (C1/C4, README: 4.4.3 for a
 * lookup failure): a host with no address bounces 5.4.4 only when every
 * lookup was a denial; a failure in any lookup, alone or next to a denial,
 * defers 4.4.3 — a failure can never reach the bounce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsLookup, DnsResult, RecordByType } from '../../src/core/dns-result.ts';
import { lookupAddresses } from '../../src/outbound/host-lookup.ts';

type Kind = 'nxdomain' | 'nodata' | 'failure' | 'secure' | 'empty';

function result(kind: Kind, qname: string, type: 'A' | 'AAAA'): DnsResult<unknown> {
  const base = { qname, canonicalName: qname, cnames: [] };
  switch (kind) {
    case 'nxdomain': case 'nodata': return { kind, secure: true, ...base };
    case 'failure': return { kind, reason: 'malformed', qname, detail: 'RRSIG only' };
    case 'empty': return { kind: 'secure', ...base, records: [] }; // not a denial: must never bounce
    case 'secure': return { kind, ...base, records: [type === 'A' ? { type, name: qname, ttl: 60, address: '192.0.2.1' } : { type, name: qname, ttl: 60, address: '2001:db8::1' }] };
  }
}

function fakeDns(a: Kind, aaaa: Kind): DnsLookup {
  return {
    lookup: <T extends keyof RecordByType>(name: string, type: T) =>
      Promise.resolve(result(type === 'A' ? a : aaaa, name, type === 'A' ? 'A' : 'AAAA') as DnsResult<RecordByType[T]>),
  };
}

test('C1/C4: no address → 5.4.4 only when every lookup is a denial; any failure defers 4.4.3', async () => {
  const table: Array<[Kind, Kind, string | 'usable']> = [
    ['nxdomain', 'nxdomain', '5.4.4'], ['nodata', 'nodata', '5.4.4'], ['nxdomain', 'nodata', '5.4.4'],
    ['failure', 'failure', '4.4.3'], ['failure', 'nodata', '4.4.3'], ['nodata', 'failure', '4.4.3'], ['nxdomain', 'failure', '4.4.3'],
    ['empty', 'nodata', '4.4.3'], ['nxdomain', 'empty', '4.4.3'],
    ['secure', 'failure', 'usable'], ['failure', 'secure', 'usable'],
  ];
  for (const [a, aaaa, want] of table) {
    const r = await lookupAddresses({ dns: fakeDns(a, aaaa), inetProtocols: 'all', addressPreference: 'ipv4' }, 'mx.example.com');
    const got = 'kind' in r ? r.dsn : 'usable';
    assert.equal(got, want, `A ${a}, AAAA ${aaaa}`);
    if ('kind' in r) assert.equal(r.permanent, want === '5.4.4', `A ${a}, AAAA ${aaaa} permanent`);
  }
});

test('C1/C4: with one address family, a failure defers 4.4.3 and a denial bounces 5.4.4', async () => {
  for (const [kind, want] of [['failure', '4.4.3'], ['nodata', '5.4.4'], ['nxdomain', '5.4.4']] as const) {
    const r = await lookupAddresses({ dns: fakeDns(kind, 'secure'), inetProtocols: 'ipv4', addressPreference: 'ipv4' }, 'mx.example.com');
    assert.equal('kind' in r ? r.dsn : 'usable', want, kind);
  }
});
