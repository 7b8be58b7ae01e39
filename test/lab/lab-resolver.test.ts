/**
 * Lab resolver, spoken to with raw dns-packet queries over UDP and TCP on
 * 127.0.0.1. Proves the answers a validating resolver would give (C1, C6).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket as RawPacket } from 'dns-packet';
import { startLabResolver, type LabResolver, type LabZone } from '../../src/lab/lab-resolver.ts';

const TLSA_DATA = Buffer.alloc(32, 7);

const zones: LabZone[] = [
  {
    origin: 'example.com', signed: true,
    records: [
      { name: 'example.com', type: 'MX', data: { preference: 10, exchange: 'mx.example.com' } },
      { name: 'mx.example.com', type: 'A', data: '127.0.0.2' },
      { name: '_25._tcp.mx.example.com', type: 'TLSA', data: { usage: 3, selector: 1, matchingType: 1, certificate: TLSA_DATA } },
      { name: 'alias.example.com', type: 'CNAME', data: 'mx.example.com' },
      { name: 'out.example.com', type: 'CNAME', data: 'host.plain.test' },
      { name: 'tobogus.example.com', type: 'CNAME', data: 'x.bogus.test' },
      { name: 'deep.sub.example.com', type: 'A', data: '127.0.0.3' },
      { name: 'loop1.example.com', type: 'CNAME', data: 'loop2.example.com' },
      { name: 'loop2.example.com', type: 'CNAME', data: 'loop1.example.com' },
    ],
    servfail: [{ name: '_25._tcp.sf.example.com', type: 'TLSA' }],
    drop: [{ name: 'dropped.example.com', type: 'A' }],
  },
  { origin: 'plain.test', signed: false, records: [{ name: 'host.plain.test', type: 'A', data: '127.0.0.4' }] },
  { origin: 'bogus.test', signed: true, bogus: true, records: [{ name: 'x.bogus.test', type: 'A', data: '127.0.0.5' }] },
  { origin: 'lame.test', signed: true, lame: true, lameDelayMs: 20, records: [] },
];

/** dns-packet decodes `rcode` but its type declarations omit it. */
type DecodedPacket = RawPacket & { rcode: string };
const decode = (b: Buffer): DecodedPacket => dnsPacket.decode(b) as DecodedPacket;

let nextId = 1;
function query(name: string, type: string, opts: { edns?: boolean; do?: boolean } = {}): Buffer {
  const edns = opts.edns ?? true;
  return dnsPacket.encode({
    type: 'query', id: nextId++, flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A' }],
    additionals: edns ? [{ name: '.', type: 'OPT', udpPayloadSize: 1232, flags: opts.do === false ? 0 : dnsPacket.DNSSEC_OK } as never] : [],
  });
}

function udpAsk(r: LabResolver, msg: Buffer, waitMs = 1000): Promise<DecodedPacket | 'timeout'> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve('timeout'); }, waitMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(decode(m)); });
    s.send(msg, r.port, r.host);
  });
}

function tcpAsk(r: LabResolver, msg: Buffer): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(r.port, r.host);
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('connect', () => {
      const len = Buffer.alloc(2); len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
  });
}

async function ask(r: LabResolver, name: string, type: string): Promise<DecodedPacket> {
  const res = await udpAsk(r, query(name, type));
  assert.notEqual(res, 'timeout');
  return res as DecodedPacket;
}

describe('lab resolver', () => {
  let r: LabResolver;
  before(async () => { r = await startLabResolver({ zones }); });
  after(async () => { await r.close(); });

  test('C1/C6: table of answers — rcode, AD, answer count', async () => {
    const table: Array<[string, string, string, boolean, number]> = [
      // name, type, rcode, AD, answers
      ['example.com', 'MX', 'NOERROR', true, 1],
      ['MX.Example.COM.', 'A', 'NOERROR', true, 1],
      ['_25._tcp.mx.example.com', 'TLSA', 'NOERROR', true, 1],
      ['mx.example.com', 'AAAA', 'NOERROR', true, 0],          // NODATA, secure
      ['sub.example.com', 'A', 'NOERROR', true, 0],            // empty non-terminal: NODATA
      ['nope.example.com', 'A', 'NXDOMAIN', true, 0],          // secure NXDOMAIN
      ['host.plain.test', 'A', 'NOERROR', false, 1],           // insecure zone
      ['nope.plain.test', 'A', 'NXDOMAIN', false, 0],
      ['x.bogus.test', 'A', 'SERVFAIL', false, 0],             // bogus → SERVFAIL
      ['a.lame.test', 'A', 'SERVFAIL', false, 0],              // lame → SERVFAIL after delay
      ['_25._tcp.sf.example.com', 'TLSA', 'SERVFAIL', false, 0],
      ['no.such.zone', 'A', 'NXDOMAIN', false, 0],             // no zone: insecure NXDOMAIN
      ['.', 'NS', 'NOERROR', true, 1],                          // default signed root for the probe
      ['alias.example.com', 'A', 'NOERROR', true, 2],          // CNAME + A, all signed
      ['out.example.com', 'A', 'NOERROR', false, 2],           // chain into unsigned zone
      ['tobogus.example.com', 'A', 'SERVFAIL', false, 0],      // chain ends in bogus zone
      ['alias.example.com', 'CNAME', 'NOERROR', true, 1],      // CNAME asked for itself: not followed
    ];
    for (const [name, type, rcode, ad, count] of table) {
      const p = await ask(r, name, type);
      const label = `${name} ${type}`;
      assert.equal(p.rcode, rcode, label);
      assert.equal(p.flag_ad, ad, label);
      assert.equal(p.answers?.length, count, label);
      assert.equal(p.flag_qr, true, label);
      assert.equal(p.flag_ra, true, label);
      assert.deepEqual(p.questions?.[0]?.name, name === '.' ? '.' : name.replace(/\.$/, ''), label);
      if ((rcode === 'NXDOMAIN' && name !== 'no.such.zone') || (rcode === 'NOERROR' && count === 0)) {
        assert.equal(p.authorities?.[0]?.type, 'SOA', `${label}: SOA in authority`);
      }
    }
  });

  test('records carry dns-packet data: TLSA fields, MX, CNAME chain order', async () => {
    const t = await ask(r, '_25._tcp.mx.example.com', 'TLSA');
    const a = t.answers?.[0];
    assert.ok(a && a.type === 'TLSA');
    assert.equal(a.data.usage, 3);
    assert.deepEqual(Buffer.from(a.data.certificate), TLSA_DATA);
    const c = await ask(r, 'alias.example.com', 'A');
    assert.deepEqual(c.answers?.map((x) => x.type), ['CNAME', 'A']);
    assert.equal(c.answers?.[1]?.name, 'mx.example.com');
  });

  test('TLSA certificate data given as a plain Uint8Array is served', async () => {
    r.setZones([{ origin: 'u8.test', signed: true, records: [
      { name: '_25._tcp.u8.test', type: 'TLSA', data: { usage: 2, selector: 0, matchingType: 1, certificate: new Uint8Array(32).fill(1) } },
    ] }]);
    try {
      const p = await ask(r, '_25._tcp.u8.test', 'TLSA');
      const a = p.answers?.[0];
      assert.ok(a && a.type === 'TLSA');
      assert.deepEqual(Buffer.from(a.data.certificate), Buffer.alloc(32, 1));
    } finally { r.setZones(zones); }
  });

  test('CNAME loop: the chain is returned as far as it goes, no hang', async () => {
    const p = await ask(r, 'loop1.example.com', 'A');
    assert.equal(p.rcode, 'NOERROR');
    assert.deepEqual(p.answers?.map((x) => x.type), ['CNAME', 'CNAME']);
  });

  test('echoes id, OPT only when asked, DO bit mirrored', async () => {
    const q = query('example.com', 'MX');
    const p = await udpAsk(r, q);
    assert.ok(p !== 'timeout');
    assert.equal(p.id, dnsPacket.decode(q).id);
    const opt = p.additionals?.find((x) => x.type === 'OPT');
    assert.ok(opt && opt.type === 'OPT' && opt.flag_do);
    const plain = await udpAsk(r, query('example.com', 'MX', { edns: false }));
    assert.ok(plain !== 'timeout');
    assert.equal(plain.additionals?.length, 0);
  });

  test('dropped name+type is never answered; query still logged', async () => {
    r.resetCounters();
    const p = await udpAsk(r, query('dropped.example.com', 'A'), 150);
    assert.equal(p, 'timeout');
    assert.equal(r.queryCount(), 1);
    assert.deepEqual(r.queries(), [{ name: 'dropped.example.com', type: 'A', transport: 'udp' }]);
  });

  test('TCP answers on the same port, logged as tcp', async () => {
    r.resetCounters();
    const p = await tcpAsk(r, query('example.com', 'MX'));
    assert.equal(p.rcode, 'NOERROR');
    assert.equal(p.answers?.length, 1);
    assert.equal(r.queries()[0]?.transport, 'tcp');
  });

  test('malformed packets are ignored and the server keeps answering', async () => {
    for (const junk of [Buffer.from([1, 2, 3]), Buffer.alloc(40, 0xff), dnsPacket.encode({ type: 'response', id: 9, questions: [{ name: 'a', type: 'A' }] })]) {
      assert.equal(await udpAsk(r, junk, 100), 'timeout');
    }
    const p = await ask(r, 'example.com', 'MX');
    assert.equal(p.rcode, 'NOERROR');
  });

  test('setValidating(false): AD never set; setZones replaces the data', async () => {
    r.setValidating(false);
    assert.equal((await ask(r, 'example.com', 'MX')).flag_ad, false);
    r.setValidating(true);
    r.setZones([{ origin: 'other.test', signed: true, records: [{ name: 'other.test', type: 'A', data: '127.0.0.9' }] }]);
    assert.equal((await ask(r, 'example.com', 'MX')).rcode, 'NXDOMAIN');
    assert.equal((await ask(r, 'other.test', 'A')).flag_ad, true);
    r.setZones(zones);
  });
});

describe('lab resolver: truncation', () => {
  test('truncateUdp: UDP gets TC=1 and no records, TCP gets the answer', async () => {
    const r = await startLabResolver({ zones, truncateUdp: true });
    try {
      const u = await udpAsk(r, query('example.com', 'MX'));
      assert.ok(u !== 'timeout');
      assert.equal(u.flag_tc, true);
      assert.equal(u.answers?.length, 0);
      const t = await tcpAsk(r, query('example.com', 'MX'));
      assert.equal(t.flag_tc, false);
      assert.equal(t.answers?.length, 1);
    } finally { await r.close(); }
  });

  test('a reply bigger than 512 bytes without EDNS is truncated on UDP', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ name: 'big.test', type: 'A' as const, data: `127.0.1.${i}` }));
    const r = await startLabResolver({ zones: [{ origin: 'big.test', signed: true, records: many }] });
    try {
      const u = await udpAsk(r, query('big.test', 'A', { edns: false }));
      assert.ok(u !== 'timeout');
      assert.equal(u.flag_tc, true);
      const e = await udpAsk(r, query('big.test', 'A'));
      assert.ok(e !== 'timeout');
      assert.equal(e.answers?.length, 40);
    } finally { await r.close(); }
  });
});
