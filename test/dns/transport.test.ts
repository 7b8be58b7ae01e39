/**
 * The client against misbehaving servers on 127.0.0.1: truncation, spoofed and
 * stale answers, timeouts, malformed packets, SERVFAIL/REFUSED, retries across
 * servers (C1, C6), and what the queries look like on the wire.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { startLabResolver, type LabZone } from '../../src/lab/lab-resolver.ts';
import { aRecord, cnameRecord, respond, startRawUdp, testClient } from './helpers.ts';

const zones: LabZone[] = [{
  origin: 'example.com', signed: true,
  records: [{ name: 'host.example.com', type: 'A', data: '127.0.0.2' }],
}];

function frame(b: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** A bound UDP socket that never answers, counting what it receives. */
async function silentServer(): Promise<{ host: string; port: number; count: () => number; close: () => Promise<void> }> {
  const s = dgram.createSocket('udp4');
  let n = 0;
  s.on('message', () => { n++; });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { host: '127.0.0.1', port: s.address().port, count: () => n, close: () => new Promise((r) => s.close(() => r())) };
}

describe('DNS transport and answer checks', () => {
  test('truncated UDP answer → the same question over TCP', async () => {
    const lab = await startLabResolver({ zones, truncateUdp: true });
    const c = testClient([lab]);
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind, 'secure');
      assert.deepEqual(lab.queries().map((q) => q.transport), ['udp', 'tcp']);
      assert.equal(c.stats().queriesSent, 2);
    } finally { await c.close(); await lab.close(); }
  });

  test('answers with the wrong id, wrong question or from the wrong port are ignored; the right one is taken', async () => {
    const spoofer = dgram.createSocket('udp4');
    await new Promise<void>((r) => spoofer.bind(0, '127.0.0.1', () => r()));
    const raw = await startRawUdp((q, reply, ctx) => {
      const bad = (o: Parameters<typeof respond>[1]): Buffer => respond(q, { ad: true, answers: [aRecord('host.example.com', '6.6.6.6')], ...o });
      spoofer.send(bad({}), ctx.port, ctx.address);                 // right id, wrong source port
      reply(bad({ id: ((q.id ?? 0) + 1) & 0xffff }));             // wrong id
      reply(bad({ name: 'other.example.com' }));                  // wrong question name
      reply(bad({ type: 'AAAA' }));                               // wrong question type
      setTimeout(() => reply(respond(q, { ad: true, answers: [aRecord('host.example.com', '127.0.0.2')] })), 30);
    });
    const c = testClient([raw]);
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind, 'secure');
      assert.equal(r.kind === 'secure' && r.records[0]?.address, '127.0.0.2');
      assert.equal(raw.received.length, 1);
    } finally { await c.close(); await raw.close(); await new Promise<void>((r) => spoofer.close(() => r())); }
  });

  test('timeout on the first server → the next server answers', async () => {
    const silent = await silentServer();
    const lab = await startLabResolver({ zones });
    const c = testClient([silent, lab], { timeoutMs: 200 });
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind, 'secure');
      assert.equal(silent.count(), 1);
      assert.equal(lab.queryCount(), 1);
    } finally { await c.close(); await silent.close(); await lab.close(); }
  });

  test('C1: no answer from any server → failure timeout after attempts × servers tries (bounded)', async () => {
    const a = await silentServer();
    const b = await silentServer();
    const c = testClient([a, b], { timeoutMs: 100, attempts: 2 });
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'timeout');
      assert.deepEqual([a.count(), b.count()], [2, 2]);
      assert.equal(c.stats().queriesSent, 4);
    } finally { await c.close(); await a.close(); await b.close(); }
  });

  test('a malformed packet is survived: failed attempt, the next server is used', async () => {
    const junk = await startRawUdp((q, reply) => {
      const good = respond(q, { answers: [aRecord('host.example.com', '6.6.6.6')] });
      reply(good.subarray(0, good.length - 3)); // right id, cut short: undecodable
    });
    const lab = await startLabResolver({ zones });
    const c = testClient([junk, lab]);
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind, 'secure');
      assert.equal(r.kind === 'secure' && r.records[0]?.address, '127.0.0.2');
      assert.equal(junk.received.length, 1);
    } finally { await c.close(); await junk.close(); await lab.close(); }
  });

  test('C1: only malformed answers → failure malformed, never an exception', async () => {
    const junk = await startRawUdp((q, reply) => reply(Buffer.concat([respond(q).subarray(0, 12), Buffer.from([0xc0, 0xff])])));
    const c = testClient([junk], { attempts: 1 });
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'malformed');
    } finally { await c.close(); await junk.close(); }
  });

  test('C1: SERVFAIL → next server; the answering server wins; SERVFAIL everywhere → failure servfail, each server asked once', async () => {
    const sf = await startRawUdp((q, reply) => reply(respond(q, { rcode: 2 })));
    const lab = await startLabResolver({ zones });
    const both = testClient([sf, lab], { attempts: 2 });
    const only = testClient([sf], { attempts: 3 });
    try {
      assert.equal((await both.lookup('host.example.com', 'A')).kind, 'secure');
      sf.received.length = 0;
      const r = await only.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'servfail');
      assert.match(r.kind === 'failure' ? r.detail : '', new RegExp(`127\\.0\\.0\\.1:${sf.port} answered SERVFAIL`));
      assert.equal(sf.received.length, 1);
    } finally { await both.close(); await only.close(); await sf.close(); await lab.close(); }
  });

  test('C1: REFUSED → failure refused', async () => {
    const refuser = await startRawUdp((q, reply) => reply(respond(q, { rcode: 5 })));
    const c = testClient([refuser]);
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'refused');
    } finally { await c.close(); await refuser.close(); }
  });

  test('queries carry RD, AD, EDNS0 with DO and a 1232-byte payload, and random ids', async () => {
    const raw = await startRawUdp((q, reply) => reply(respond(q, { answers: [aRecord(q.questions?.[0]?.name ?? '', '127.0.0.2')] })));
    const c = testClient([raw]);
    try {
      for (let i = 0; i < 6; i++) await c.lookup(`h${i}.example.com`, 'A');
      const q = raw.received[0]!;
      assert.equal(q.flag_rd, true);
      assert.equal(q.flag_ad, true);
      const opt = q.additionals?.find((a) => a.type === 'OPT');
      assert.ok(opt && opt.type === 'OPT');
      assert.equal(opt.flag_do, true);
      assert.equal(opt.udpPayloadSize, 1232);
      assert.ok(new Set(raw.received.map((x) => x.id)).size > 1, 'ids vary');
    } finally { await c.close(); await raw.close(); }
  });

  test('C11: a chain the resolver stopped part-way is continued with a query for the target', async () => {
    const raw = await startRawUdp((q, reply) => {
      const name = q.questions?.[0]?.name;
      if (name === 'a.example.com') reply(respond(q, { ad: true, answers: [cnameRecord('a.example.com', 'b.example.com')] }));
      else reply(respond(q, { ad: true, answers: [aRecord('b.example.com', '127.0.0.3')] }));
    });
    const c = testClient([raw]);
    try {
      const r = await c.lookup('a.example.com', 'A');
      assert.equal(r.kind, 'secure');
      assert.equal(r.kind === 'secure' && r.canonicalName, 'b.example.com');
      assert.deepEqual(raw.received.map((x) => x.questions?.[0]?.name), ['a.example.com', 'b.example.com']);
    } finally { await c.close(); await raw.close(); }
  });

  test('C11: a chain spread over two responses is secure only if both are (either order)', async () => {
    for (const [firstAd, secondAd, want] of [[true, false, 'insecure'], [false, true, 'insecure'], [true, true, 'secure']] as const) {
      const raw = await startRawUdp((q, reply) => {
        const name = q.questions?.[0]?.name;
        if (name === 'a.example.com') reply(respond(q, { ad: firstAd, answers: [cnameRecord('a.example.com', 'b.example.com')] }));
        else reply(respond(q, { ad: secondAd, answers: [aRecord('b.example.com', '127.0.0.3')] }));
      });
      const c = testClient([raw]);
      try {
        assert.equal((await c.lookup('a.example.com', 'A')).kind, want, `AD ${firstAd}/${secondAd}`);
      } finally { await c.close(); await raw.close(); }
    }
  });

  test('C1/C4 (RFC 2181 §5.4.1): a record of the type at a name outside the chain fails the lookup, never a secure NODATA', async () => {
    const raw = await startRawUdp((q, reply) => reply(respond(q, {
      ad: true, answers: [aRecord('evil.example.net', '6.6.6.6')],
      authorities: [{ name: 'example.com', type: 'SOA', ttl: 60, class: 'IN', data: { mname: 'ns', rname: 'h', minimum: 60 } }],
    })));
    const c = testClient([raw]);
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'malformed');
      assert.match(r.kind === 'failure' ? r.detail : '', /A record at evil\.example\.net not on the answer chain/);
    } finally { await c.close(); await raw.close(); }
  });

  test('C1: truncated over UDP and TCP refused → failure network, never the truncated (empty) answer', async () => {
    const udp = await startRawUdp((q, reply) => reply(respond(q, { tc: true, ad: true })));
    const c = testClient([udp], { timeoutMs: 300, attempts: 1 });
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'network');
    } finally { await c.close(); await udp.close(); }
  });

  test('over TCP, a frame with the wrong id is ignored and the right frame that follows is taken', async () => {
    const udp = await startRawUdp((q, reply) => reply(respond(q, { tc: true })));
    const tcp = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => sock.destroy());
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const q = dnsPacket.decode(buf.subarray(2));
        const wrong = respond(q, { id: ((q.id ?? 0) + 1) & 0xffff, ad: true, answers: [aRecord('host.example.com', '6.6.6.6')] });
        const right = respond(q, { ad: true, answers: [aRecord('host.example.com', '127.0.0.2')] });
        sock.write(Buffer.concat([frame(wrong), frame(right)]));
      });
    });
    await new Promise<void>((res, rej) => { tcp.once('error', rej); tcp.listen(udp.port, '127.0.0.1', () => res()); });
    const c = testClient([udp]);
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind, 'secure');
      assert.equal(r.kind === 'secure' && r.records[0]?.address, '127.0.0.2');
    } finally { await c.close(); await udp.close(); await new Promise<void>((res) => tcp.close(() => res())); }
  });
  test('C1/C4: answers with a wrong id or question only → ignored until the timeout → failure, never accepted (UDP)', async () => {
    const raw = await startRawUdp((q, reply) => {
      reply(respond(q, { id: ((q.id ?? 0) + 1) & 0xffff, ad: true, answers: [aRecord('host.example.com', '6.6.6.6')] }));
      reply(respond(q, { name: 'other.example.com', ad: true, answers: [aRecord('other.example.com', '6.6.6.6')] }));
    });
    const c = testClient([raw], { timeoutMs: 200, attempts: 1 });
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'timeout');
    } finally { await c.close(); await raw.close(); }
  });

  /** UDP answers TC=1; TCP answers with `frames(q)`. */
  async function tcpServer(frames: (q: dnsPacket.DecodedPacket) => Buffer[]): Promise<{ port: number; close: () => Promise<void> }> {
    const udp = await startRawUdp((q, reply) => reply(respond(q, { tc: true, ad: true })));
    const tcp = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => sock.destroy());
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        sock.write(Buffer.concat(frames(dnsPacket.decode(buf.subarray(2))).map(frame)));
      });
    });
    await new Promise<void>((res, rej) => { tcp.once('error', rej); tcp.listen(udp.port, '127.0.0.1', () => res()); });
    return { port: udp.port, close: async () => { await udp.close(); await new Promise<void>((res) => tcp.close(() => res())); } };
  }

  test('C1/C4: over TCP, frames with a wrong id or question only → failure timeout, never accepted', async () => {
    const s = await tcpServer((q) => [
      respond(q, { id: ((q.id ?? 0) + 1) & 0xffff, ad: true, answers: [aRecord('host.example.com', '6.6.6.6')] }),
      respond(q, { type: 'AAAA', ad: true }),
    ]);
    const c = testClient([{ host: '127.0.0.1', port: s.port }], { timeoutMs: 200, attempts: 1 });
    try {
      const r = await c.lookup('host.example.com', 'A');
      assert.equal(r.kind === 'failure' && r.reason, 'timeout');
    } finally { await c.close(); await s.close(); }
  });

  test('C1/C4 RFC 1035 §4.1.1: TC=1 again after the TCP retry → failure malformed for MX, A and TLSA, never a secure denial', async () => {
    const s = await tcpServer((q) => [respond(q, { tc: true, ad: true })]);
    const c = testClient([{ host: '127.0.0.1', port: s.port }], { timeoutMs: 500, attempts: 1 });
    try {
      for (const [name, type] of [['example.com', 'MX'], ['host.example.com', 'A'], ['_25._tcp.host.example.com', 'TLSA']] as const) {
        const r = await c.lookup(name, type);
        assert.equal(r.kind === 'failure' && r.reason, 'malformed', `${type}: ${r.kind}`);
        assert.match(r.kind === 'failure' ? r.detail : '', /truncated/);
      }
    } finally { await c.close(); await s.close(); }
  });
});
