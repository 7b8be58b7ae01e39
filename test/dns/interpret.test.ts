/**
 * The one DNS rule at the wire/interpret level (checklist C1/C4): anything
 * short of a well-formed answer or a well-formed denial is a failure, for MX,
 * A, AAAA and TLSA alike. Each response is encoded, decoded by the client's
 * decoder and interpreted as the first response of a lookup, always with AD
 * set by a trusted resolver (the case the fault run found: AD=1 garbage read
 * as a secure denial).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import type { RecordType } from '../../src/core/dns-result.ts';
import { interpretResponse, newChain } from '../../src/dns/interpret.ts';
import { synthesize } from '../../src/dns/answer-rules.ts';
import { decodeResponse } from '../../src/dns/wire.ts';

type Qtype = 'MX' | 'A' | 'AAAA' | 'TLSA';
const QTYPES: Qtype[] = ['MX', 'A', 'AAAA', 'TLSA'];
const QNAME: Record<Qtype, string> = { MX: 'example.com', A: 'mx.example.com', AAAA: 'mx.example.com', TLSA: '_25._tcp.mx.example.com' };
const NXDOMAIN = 3;

/** A well-formed record of `type` at `name`. */
function rec(type: Qtype, name: string): Answer {
  switch (type) {
    case 'MX': return { name, type, ttl: 60, class: 'IN', data: { preference: 10, exchange: 'mx.example.com' } };
    case 'A': return { name, type, ttl: 60, class: 'IN', data: '192.0.2.1' };
    case 'AAAA': return { name, type, ttl: 60, class: 'IN', data: '2001:db8::1' };
    case 'TLSA': return { name, type, ttl: 60, class: 'IN', data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 0xab) } };
  }
}
const cname = (name: string, target: string): Answer => ({ name, type: 'CNAME', ttl: 60, class: 'IN', data: target });
const dname = (name: string, target: string): Answer => ({ name, type: 'DNAME', ttl: 60, class: 'IN', data: target } as unknown as Answer);
const rrsig = (name: string, covered: string): Answer => ({
  name, type: 'RRSIG', ttl: 60, class: 'IN',
  data: { typeCovered: covered, algorithm: 13, labels: 3, originalTTL: 60, expiration: 2_000_000_000, inception: 1_000_000_000, keyTag: 1, signersName: 'example.com', signature: Buffer.alloc(64, 1) },
} as unknown as Answer);
const soa: Answer = { name: 'example.com', type: 'SOA', ttl: 300, class: 'IN', data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } };

interface Shape { answers?: Answer[]; authorities?: Answer[]; rcode?: number; tc?: boolean }

function packet(type: Qtype, s: Shape): Buffer {
  const flags = dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA
    | (s.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | (s.rcode ?? 0);
  return dnsPacket.encode({
    type: 'response', id: 1, flags, questions: [{ name: QNAME[type], type, class: 'IN' }],
    answers: s.answers ?? [], authorities: s.authorities ?? [],
  });
}

/** decode + interpret as the first response of a lookup for QNAME[type]; 'undecodable' when the decoder refuses it. */
function outcome(type: RecordType, buf: Buffer, qname: string): { kind: string; reason?: string; detail?: string; follow?: string } {
  const d = decodeResponse(buf);
  if (d.kind === 'malformed') return { kind: 'failure', reason: 'malformed', detail: d.detail };
  const step = interpretResponse(newChain(qname, type), d.response, qname, true);
  if (step.kind === 'follow') return { kind: 'follow', follow: step.name };
  const r = step.result;
  return r.kind === 'failure' ? { kind: r.kind, reason: r.reason, detail: r.detail } : { kind: r.kind };
}

/** [rule, shape builder for qtype, expected kind, detail pattern] */
type Row = [string, (t: Qtype, q: string) => Shape, string, RegExp?];

const wellFormed: Row[] = [
  ['control: signed RRset with its RRSIG', (t, q) => ({ answers: [rec(t, q), rrsig(q, t)] }), 'secure'],
  ['control RFC 1034 §3.6.2: CNAME chain to the RRset, all signed', (t, q) => ({ answers: [cname(q, `x.${q}`), rrsig(q, 'CNAME'), rec(t, `x.${q}`), rrsig(`x.${q}`, t)] }), 'secure'],
  ['control RFC 2308 §2.2: NODATA with SOA', () => ({ authorities: [soa] }), 'nodata'],
  ['control RFC 2308 §2.1: NXDOMAIN with SOA', () => ({ rcode: NXDOMAIN, authorities: [soa] }), 'nxdomain'],
  ['control RFC 6604 §3: NXDOMAIN after a CNAME refers to the target: nxdomain, not a failure', (_t, q) => ({ rcode: NXDOMAIN, answers: [cname(q, 'gone.example.net')], authorities: [soa] }), 'nxdomain'],
  ['control RFC 6672 §3.1: DNAME at an ancestor with the CNAME it synthesizes', (t, q) => ({ answers: [dname('com', 'org'), cname(q, q.replace(/com$/, 'org')), rec(t, q.replace(/com$/, 'org'))] }), 'secure'],
];

const notAnswers: Row[] = [
  ['C1/C4 RFC 1035 §4.1.1: truncated answer (TC=1 over TCP) with the records', (t, q) => ({ tc: true, answers: [rec(t, q)] }), 'failure', /truncated/],
  ['C1/C4 RFC 1035 §4.1.1: truncated empty answer is not a denial', () => ({ tc: true, authorities: [soa] }), 'failure', /truncated/],
  ['C1/C4 RFC 4035 §3.1.1: NOERROR with only an RRSIG', (t, q) => ({ answers: [rrsig(q, t)] }), 'failure', /RRSIG/],
  ['C1/C4 RFC 4035 §3.1.1: an RRSIG covering another type next to the RRset', (t, q) => ({ answers: [rec(t, q), rrsig(q, 'NS')] }), 'failure', /RRSIG/],
  ['C1/C4 RFC 6672 §2.3: DNAME at the owner name itself, nothing else', (_t, q) => ({ answers: [dname(q, 'example.net')] }), 'failure', /DNAME/],
  ['C1/C4 RFC 6672 §3.1: DNAME at an ancestor without its CNAME', (_t, q) => ({ answers: [dname('example.com', 'example.net')] }), 'failure', /DNAME/],
  ['C1/C4 RFC 6672 §3.1: DNAME with a CNAME that is not its synthesis', (t, q) => ({ answers: [dname('example.com', 'example.net'), cname(q, 'elsewhere.example.org'), rec(t, 'elsewhere.example.org')] }), 'failure', /DNAME/],
  ['C1/C4 RFC 2181 §5.4.1: the RRset at another owner name', (t) => ({ answers: [rec(t, 'evil.example.net')], authorities: [soa] }), 'failure', /not on the answer chain/],
  ['C1/C4 RFC 2181 §5.4.1: a stray record of another type at the owner', (t, q) => ({ answers: [rec(t, q), rec(t === 'A' ? 'AAAA' : 'A', q)] }), 'failure', /not on the answer chain/],
  ['C1/C4 RFC 6604 §3: NXDOMAIN carrying the RRset for the qname', (t, q) => ({ rcode: NXDOMAIN, answers: [rec(t, q)] }), 'failure', /NXDOMAIN carrying/],
  ['C1/C4 RFC 6604 §3: NXDOMAIN carrying a CNAME and the RRset at its target', (t, q) => ({ rcode: NXDOMAIN, answers: [cname(q, 'x.example.net'), rec(t, 'x.example.net')] }), 'failure', /NXDOMAIN carrying/],
  ['C1/C4 RFC 2181 §10.1.1: two CNAMEs at one owner', (t, q) => ({ answers: [cname(q, 'a.example.net'), cname(q, 'b.example.net'), rec(t, 'a.example.net')] }), 'failure', /2 CNAME/],
  ['C1/C4 RFC 1034 §3.6.2: CNAME and data at one owner', (t, q) => ({ answers: [cname(q, 'a.example.net'), rec(t, q)] }), 'failure', /CNAME and/],
  ['C1/C4 RFC 1034 §3.6.2: CNAME loop inside one response', (_t, q) => ({ answers: [cname(q, 'l.example.net'), cname('l.example.net', q)] }), 'failure', /CNAME loop/],
  ['C1/C4 RFC 7672 §2.2.3: more than 8 CNAME links', (t, q) => ({
    answers: [cname(q, 'c0.example.net'), ...Array.from({ length: 9 }, (_, i) => cname(`c${i}.example.net`, `c${i + 1}.example.net`)), rec(t, 'c9.example.net')],
  }), 'failure', /more than 8/],
  ['C1/C4: a record of class CH', (t, q) => ({ answers: [{ ...rec(t, q), class: 'CH' } as Answer] }), 'failure', /class CH/],
];

describe('interpret: well-formed answers and denials are kept', () => {
  for (const [rule, shape, want] of wellFormed) {
    test(rule, () => {
      for (const t of QTYPES) assert.equal(outcome(t, packet(t, shape(t, QNAME[t])), QNAME[t]).kind, want, t);
    });
  }
});

describe('interpret: anything short of a well-formed answer or denial is a failure (C1/C4)', () => {
  for (const [rule, shape, want, why] of notAnswers) {
    test(rule, () => {
      for (const t of QTYPES) {
        const o = outcome(t, packet(t, shape(t, QNAME[t])), QNAME[t]);
        assert.equal(o.kind, want, `${t}: ${JSON.stringify(o)}`);
        if (why) assert.match(o.detail ?? '', why, t);
      }
    });
  }
});

/** The TLSA answer packet with its one record's RDATA replaced by `rdata` (RDLENGTH = rdata length, or `declared`). */
function tlsaWithRdata(rdata: Buffer, opts: { declared?: number; thenA?: boolean } = {}): Buffer {
  const q = QNAME.TLSA;
  const good = packet('TLSA', { answers: [rec('TLSA', q)] });
  const rdOff = good.length - 35; // 3 fixed bytes + 32-byte digest
  const head = Buffer.from(good.subarray(0, rdOff));
  head.writeUInt16BE(opts.declared ?? rdata.length, rdOff - 2);
  if (!opts.thenA) return Buffer.concat([head, rdata]);
  head.writeUInt16BE(2, 6); // ANCOUNT 2: an A record follows
  const a = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  return Buffer.concat([head, rdata, a]);
}

describe('interpret: TLSA RDATA (RFC 6698 §2.1, RFC 1035 §3.2.1), C1/C4', () => {
  const digest = (n: number): Buffer => Buffer.concat([Buffer.from([3, 1, 1]), Buffer.alloc(n, 0xab)]);
  const rows: Array<[string, Buffer, string, RegExp?]> = [
    ['control: 3 1 1 with a 32-byte digest', tlsaWithRdata(digest(32)), 'secure'],
    ['RDLENGTH 3 bytes short (was read as a 29-byte digest -> dane:encrypt): malformed packet', tlsaWithRdata(digest(32), { declared: 32 }), 'failure', /after the last record|RDLENGTH/],
    ['RDLENGTH short in the middle of the packet: malformed packet', tlsaWithRdata(digest(32), { declared: 32, thenA: true }), 'failure', /undecodable/],
    ['RDLENGTH past the end: malformed packet', tlsaWithRdata(digest(32), { declared: 40 }), 'failure', /past end/],
    ['0-byte RDATA at the end: malformed packet', tlsaWithRdata(Buffer.alloc(0)), 'failure'],
    ['0-byte RDATA followed by another record: malformed packet, never read from the next record', tlsaWithRdata(Buffer.alloc(0), { thenA: true }), 'failure'],
    ['C13/C27: 3-byte RDATA (no association data) is well-formed (unusable later, not a lookup error)', tlsaWithRdata(Buffer.from([3, 1, 1])), 'secure'],
    ['C13/C27: 3-byte RDATA with Full(0) is well-formed (unusable later)', tlsaWithRdata(Buffer.from([3, 1, 0])), 'secure'],
    ['C13/C27: a SHA2-256 digest of 31 bytes is well-formed (unusable later)', tlsaWithRdata(digest(31)), 'secure'],
    ['C13/C27: SHA2-512 with 32 bytes is well-formed (unusable later)', tlsaWithRdata(Buffer.concat([Buffer.from([3, 1, 2]), Buffer.alloc(32)])), 'secure'],
    ['C27: unknown usage 4 is well-formed (unusable later, not a lookup error)', tlsaWithRdata(Buffer.concat([Buffer.from([4, 1, 1]), Buffer.alloc(32)])), 'secure'],
    ['C27: unknown matching type 7 with 5 bytes is well-formed (unusable later)', tlsaWithRdata(Buffer.concat([Buffer.from([3, 1, 7]), Buffer.alloc(5)])), 'secure'],
  ];
  for (const [rule, buf, want, why] of rows) {
    test(rule, () => {
      const o = outcome('TLSA', buf, QNAME.TLSA);
      assert.equal(o.kind, want, JSON.stringify(o));
      if (why) assert.match(o.detail ?? '', why);
    });
  }
});

describe('interpret: malformed records of the other types are lookup errors (C1/C4)', () => {
  test('RFC 1035 §3.4.1: an A record with RDLENGTH 3 is a malformed packet', () => {
    const good = packet('A', { answers: [rec('A', QNAME.A)] });
    const bad = Buffer.concat([good.subarray(0, good.length - 6), Buffer.from([0, 3, 192, 0, 2])]);
    assert.equal(outcome('A', bad, QNAME.A).kind, 'failure');
  });
  test('a label holding a "." byte cannot be represented: malformed, never read as two labels', () => {
    const good = packet('A', { answers: [rec('A', QNAME.A)] });
    const bad = Buffer.from(good);
    const at = bad.indexOf(Buffer.from('example'));
    bad[at + 3] = 0x2e; // "exa.ple"
    assert.equal(outcome('A', bad, QNAME.A).kind, 'failure');
  });
  test('an MX record whose exchange is not a valid name fails the lookup instead of being dropped', () => {
    const p = packet('MX', { answers: [{ name: QNAME.MX, type: 'MX', ttl: 60, class: 'IN', data: { preference: 10, exchange: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}` } }] });
    assert.equal(outcome('MX', p, QNAME.MX).kind, 'failure');
  });
});

describe('interpret: chains over several responses', () => {
  test('RFC 7672 §2.2.3: a chain that stops at a target without SOA is followed; with SOA it is NODATA at the target', () => {
    const q = QNAME.A;
    assert.deepEqual(outcome('A', packet('A', { answers: [cname(q, 'x.example.net')] }), q), { kind: 'follow', follow: 'x.example.net' });
    assert.equal(outcome('A', packet('A', { answers: [cname(q, 'x.example.net')], authorities: [soa] }), q).kind, 'nodata');
  });
  test('RFC 6672 §2.2: synthesize replaces the DNAME owner suffix and never applies to the owner itself', () => {
    assert.equal(synthesize('a.b.example.com', 'example.com', 'example.net'), 'a.b.example.net');
    assert.equal(synthesize('example.com', 'example.com', 'example.net'), undefined);
    assert.equal(synthesize('notexample.com', 'example.com', 'example.net'), undefined);
    assert.equal(synthesize('a.example.com', 'example.com', '.'), 'a');
  });
});

describe('interpret: names', () => {
  const ownerByte = (byte: number): Buffer => {
    const good = packet('A', { answers: [rec('A', QNAME.A)], authorities: [] });
    // the answer owner is written out in full after the question: change one of its bytes
    const at = good.lastIndexOf(Buffer.from('example'));
    const bad = Buffer.from(good);
    bad[at + 1] = byte;
    return bad;
  };
  test('C1/C4: an answer owner name with a control or non-ASCII byte is malformed, never matched loosely', () => {
    for (const b of [0x00, 0x20, 0x7f, 0xc3]) assert.equal(outcome('A', ownerByte(b), QNAME.A).kind, 'failure', `byte 0x${b.toString(16)}`);
  });
  test('an authority-section name with a \\000 label (Cloudflare-style NSEC) does not spoil a well-formed denial', () => {
    const nsec = { name: QNAME.A, type: 'NSEC', ttl: 60, class: 'IN', data: { nextDomain: `\u0000.${QNAME.A}`, rrtypes: ['RRSIG', 'NSEC'] } } as unknown as Answer;
    assert.equal(outcome('A', packet('A', { authorities: [soa, nsec] }), QNAME.A).kind, 'nodata');
  });
});
