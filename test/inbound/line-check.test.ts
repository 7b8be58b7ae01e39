import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LineChecker } from '../../src/inbound/line-check.ts';
import { networkMatcher } from '../../src/inbound/access.ts';
import { validMailbox } from '../../src/inbound/address.ts';
import { receivedHeader } from '../../src/inbound/received.ts';

describe('DATA line checks (smuggling stance: reject, never normalise)', () => {
  const cases: Array<[string, string[], string | undefined]> = [
    ['CRLF only', ['a\r\nb\r\n'], undefined],
    ['bare LF', ['a\nb\r\n'], 'bare-lf'],
    ['bare CR', ['a\rb\r\n'], 'bare-cr'],
    ['CR at chunk end, LF in next chunk', ['a\r', '\nb\r\n'], undefined],
    ['CR at chunk end, no LF next', ['a\r', 'b\r\n'], 'bare-cr'],
    ['trailing lone CR', ['a\r\nb\r'], 'bare-cr'],
    ['<LF>.<LF>', ['x\n.\n'], 'bare-lf'],
    ['<CR><LF>.<LF>', ['x\r\n.\n'], 'bare-lf'],
    ['line of exactly the limit', ['x'.repeat(10) + '\r\n'], undefined],
    ['line over the limit', ['x'.repeat(11) + '\r\n'], 'line-too-long'],
    ['long line split over chunks', ['x'.repeat(6), 'x'.repeat(5), '\r\n'], 'line-too-long'],
  ];
  for (const [name, chunks, expected] of cases) {
    test(`${name} -> ${expected ?? 'accepted'}`, () => {
      const c = new LineChecker(10);
      for (const chunk of chunks) c.feed(Buffer.from(chunk));
      assert.equal(c.finish()?.kind, expected);
    });
  }
  test('8-bit content is detected', () => {
    const c = new LineChecker(100);
    c.feed(Buffer.from('Grüße\r\n'));
    assert.equal(c.eightBit, true);
  });
});

describe('mynetworks matching', () => {
  const m = networkMatcher(['127.0.0.1/32', '::1/128', '10.1.0.0/16']);
  const cases: Array<[string, boolean]> = [['127.0.0.1', true], ['127.0.0.2', false], ['::ffff:127.0.0.1', true], ['::1', true], ['10.1.255.1', true], ['10.2.0.1', false], ['garbage', false]];
  for (const [ip, allowed] of cases) test(`${ip} -> ${allowed ? 'may relay' : 'denied'}`, () => assert.equal(m(ip), allowed));
});

describe('envelope address syntax', () => {
  const cases: Array<[string, boolean, boolean]> = [
    ['user@example.com', false, true], ['user@example', false, true], ['user@', false, false], ['@example.com', false, false], ['user', false, false],
    ['user@[192.0.2.1]', false, false], ['user@-x.com', false, false], ['user@x..com', false, false], ['üser@bücher.de', true, true], ['üser@bücher.de', false, false],
    ['"quoted local"@example.com', false, true], ['a\u0000b@example.com', false, false],
  ];
  for (const [addr, utf8, ok] of cases) test(`${JSON.stringify(addr)}${utf8 ? ' (SMTPUTF8)' : ''} -> ${ok ? 'valid' : 'refused'}`, () => assert.equal(validMailbox(addr, utf8), ok));
});

describe('Received header', () => {
  test('single recipient: "for <rcpt>"; client text cannot break the header', () => {
    const h = receivedHeader({ helo: 'evil\r\nX-Injected: 1', clientIp: '127.0.0.1', myhostname: 'relay.test', protocol: 'ESMTPS', queueId: 'ABCDEF', recipients: ['r@x.test'], tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, now: Date.UTC(2026, 0, 2, 3, 4, 5) });
    assert.equal(h, 'Received: from evilX-Injected:1 ([127.0.0.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n\tby relay.test (dane-relay) with ESMTPS id ABCDEF\r\n\tfor <r@x.test>; Fri, 02 Jan 2026 03:04:05 +0000\r\n');
  });
});
