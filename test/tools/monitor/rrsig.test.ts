/**
 * monitor/rrsig: the earliest RRSIG expiration over an RRset, read with the
 * DO bit from a loopback DNS responder written for this test (dns-packet);
 * a SERVFAIL or silence is a failure, never "unsigned" (C1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { rrsigExpiry } from '../../../src/tools/monitor/rrsig.ts';

let server: dgram.Socket;
let port = 0;
const asked: Array<{ name: string; type: string; do: boolean }> = [];
const EXP1 = Date.UTC(2026, 11, 3) / 1000;
const EXP2 = Date.UTC(2026, 11, 9) / 1000;

function sig(name: string, covered: string, expiration: number) {
  return { name, type: 'RRSIG' as const, ttl: 300, data: { typeCovered: covered, algorithm: 13, labels: 2, originalTTL: 300, expiration, inception: expiration - 86400 * 14, keyTag: 1, signersName: 'example.org', signature: Buffer.alloc(64, 1) } };
}

before(async () => {
  server = dgram.createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { flags?: number } | undefined;
    asked.push({ name: question.name, type: question.type, do: ((opt?.flags ?? 0) & dnsPacket.DNSSEC_OK) !== 0 });
    if (question.name === 'silent.example.org') return;
    const base = { type: 'response' as const, id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHENTIC_DATA, questions: [question] };
    const answers = question.name === 'example.org'
      ? [{ name: 'example.org', type: 'MX' as const, ttl: 300, data: { preference: 10, exchange: 'mx.example.org' } }, sig('example.org', 'MX', EXP2), sig('example.org', 'MX', EXP1), sig('example.org', 'NSEC', EXP1 - 3600)]
      : question.name === 'unsigned.example.org' ? [{ name: 'unsigned.example.org', type: 'MX' as const, ttl: 300, data: { preference: 10, exchange: 'mx.example.org' } }] : [];
    const rcode = question.name === 'bogus.example.org' ? 2 : 0;
    const packet = dnsPacket.encode({ ...base, answers, flags: base.flags | rcode });
    server.send(packet, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
  port = server.address().port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('RFC 4034 §3.1.5: the earliest expiration among the RRSIGs covering the asked type; asked with DO', async () => {
  const r = await rrsigExpiry({ host: '127.0.0.1', port }, 'example.org', 'MX', 2000);
  assert.equal(r.kind, 'signed');
  assert.equal(r.kind === 'signed' && r.expires.getTime(), EXP1 * 1000);
  assert.equal(asked.at(-1)?.do, true);
});

test('an answer without RRSIG is "none"; SERVFAIL and silence are failures (C1)', async () => {
  assert.equal((await rrsigExpiry({ host: '127.0.0.1', port }, 'unsigned.example.org', 'MX', 2000)).kind, 'none');
  const bogus = await rrsigExpiry({ host: '127.0.0.1', port }, 'bogus.example.org', 'MX', 2000);
  assert.equal(bogus.kind, 'failure');
  assert.match(bogus.kind === 'failure' ? bogus.detail : '', /SERVFAIL/);
  // Bounded: the responder never answers this name; the exchange gives up after its 300 ms timeout.
  assert.equal((await rrsigExpiry({ host: '127.0.0.1', port }, 'silent.example.org', 'TLSA', 300)).kind, 'failure');
});
