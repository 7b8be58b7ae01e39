/**
 * Wire format: name normalisation (C7), query flags, answer checks, and
 * malformed packets that must never throw.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { decodeResponse, encodeQuery, normalizeName, responseMismatch } from '../../src/dns/wire.ts';

describe('wire', () => {
  test('C7: names are absolute, lower case, without trailing dot; invalid names rejected', () => {
    const table: Array<[string, string | undefined]> = [
      ['Example.COM.', 'example.com'], ['example.com', 'example.com'], ['mail', 'mail'],
      ['.', '.'], ['', '.'], ['a..b', undefined], ['x'.repeat(64) + '.com', undefined],
      [`${'a.'.repeat(127)}com`, undefined], ['bad name.com', undefined],
    ];
    for (const [input, want] of table) assert.equal(normalizeName(input), want, JSON.stringify(input));
  });

  test('a query asks for DNSSEC: RD, AD, OPT with DO and payload 1232, class IN', () => {
    const q = dnsPacket.decode(encodeQuery(4242, { name: '_25._tcp.mx.example.com', type: 'TLSA' }));
    assert.equal(q.id, 4242);
    assert.equal(q.flag_qr, false);
    assert.equal(q.flag_rd, true);
    assert.equal(q.flag_ad, true);
    assert.deepEqual(q.questions, [{ name: '_25._tcp.mx.example.com', type: 'TLSA', class: 'IN' }]);
    const opt = q.additionals?.[0];
    assert.ok(opt && opt.type === 'OPT');
    assert.equal(opt.flag_do, true);
    assert.equal(opt.udpPayloadSize, 1232);
  });

  test('responseMismatch: only the answer to our id and question is accepted', () => {
    const q = { name: 'mx.example.com', type: 'A' as const };
    const base = { type: 'response' as const, id: 7, questions: [{ name: 'MX.example.com', type: 'A' as const }] };
    const dec = (p: dnsPacket.Packet) => {
      const d = decodeResponse(dnsPacket.encode(p));
      assert.equal(d.kind, 'ok');
      return d.kind === 'ok' ? d.response : assert.fail('decoded');
    };
    assert.equal(responseMismatch(dec(base), 7, q), undefined, 'case-insensitive name match');
    const table: Array<[dnsPacket.Packet, RegExp]> = [
      [{ ...base, id: 8 }, /id/],
      [{ ...base, type: 'query' }, /QR/],
      [{ ...base, questions: [{ name: 'other.example.com', type: 'A' }] }, /name/],
      [{ ...base, questions: [{ name: 'mx.example.com', type: 'AAAA' }] }, /type/],
      [{ ...base, questions: [{ name: 'mx.example.com', type: 'A', class: 'CH' }] }, /class/],
      [{ ...base, questions: [] }, /0 questions/],
      [{ ...base, questions: [{ name: 'mx.example.com', type: 'A' }, { name: 'mx.example.com', type: 'A' }] }, /2 questions/],
    ];
    for (const [p, why] of table) assert.match(responseMismatch(dec(p), 7, q) ?? 'accepted', why);
  });

  test('malformed packets decode to `malformed`, never throw (short, cut RDATA, bad pointer, garbage)', () => {
    const good = dnsPacket.encode({
      type: 'response', id: 1, questions: [{ name: 'a.example', type: 'A' }],
      answers: [{ name: 'a.example', type: 'A', ttl: 5, data: '127.0.0.1' }],
    });
    const badPointer = Buffer.from(good);
    badPointer[27] = 0xc0; // the answer's owner name becomes a forward pointer (offset 0x40)
    badPointer[28] = 0x40;
    const cases: Buffer[] = [
      Buffer.alloc(0), Buffer.alloc(11), good.subarray(0, good.length - 1), good.subarray(0, good.length - 3),
      badPointer, Buffer.alloc(512, 0xff), Buffer.concat([good.subarray(0, 12), Buffer.from([0x3f])]),
    ];
    for (const [i, b] of cases.entries()) assert.equal(decodeResponse(b).kind, 'malformed', `case ${i}`);
    for (let seed = 0; seed < 300; seed++) {
      const fuzz = Buffer.from(good);
      fuzz[seed % good.length] = (seed * 37) & 0xff;
      assert.doesNotThrow(() => decodeResponse(fuzz));
    }
    assert.equal(decodeResponse(good).kind, 'ok');
  });
});
