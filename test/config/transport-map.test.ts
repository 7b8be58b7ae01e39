/**
 * config/transport-map: Postfix transport(5)-style next hops (brackets = no MX lookup).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildTransportTable, lookupTransport, parseTransportFile, parseTransportValue, TransportMapError,
} from '../../src/config/transport-map.ts';

describe('parseTransportValue', () => {
  const good: Array<[string, unknown]> = [
    ['[10.0.0.5]:2525', { host: '10.0.0.5', port: 2525, bracketed: true }],
    ['[10.0.0.5]', { host: '10.0.0.5', port: null, bracketed: true }],
    ['smtp:[Relay.Example.NET]:587', { host: 'relay.example.net', port: 587, bracketed: true }],
    ['relay.example.net', { host: 'relay.example.net', port: null, bracketed: false }],
    ['relay.example.net:2525', { host: 'relay.example.net', port: 2525, bracketed: false }],
    ['smtp:relay.example.net:25', { host: 'relay.example.net', port: 25, bracketed: false }],
    ['[2001:db8::1]:25', { host: '2001:db8::1', port: 25, bracketed: true }],
    ['[ipv6:2001:db8::1]', { host: '2001:db8::1', port: null, bracketed: true }],
    ['smtp:', null],
  ];
  for (const [value, want] of good) test(`accepts ${value}`, () => assert.deepEqual(parseTransportValue(value), want));
  const bad = ['10.0.0.5:25', '[host]:0', '[host]:70000', 'lmtp:[h]', 'a b', '[x', 'h:1:2', '[bad_host!]'];
  for (const value of bad) test(`rejects ${value}`, () => assert.throws(() => parseTransportValue(value), TransportMapError));
});

describe('table lookup', () => {
  const file = [
    '# transport table',
    'example.com    [10.0.0.5]:2525',
    '.example.com   relay.example.net',
    '',
    'multi.test',
    '   [127.0.0.9]:26   # continuation line',
    'default.test   smtp:',
  ].join('\n');
  const table = buildTransportTable({ 'Example.com': '[127.0.0.2]:2526', '*': '[smarthost.test]' }, file);

  test('file syntax: comments, blanks, continuation lines', () => {
    assert.deepEqual(parseTransportFile(file).map((e) => [e.key, e.value]), [
      ['example.com', '[10.0.0.5]:2525'], ['.example.com', 'relay.example.net'], ['multi.test', '[127.0.0.9]:26'], ['default.test', 'smtp:'],
    ]);
  });
  test('config entries override file entries', () => {
    assert.deepEqual(lookupTransport(table, 'example.com'), { host: '127.0.0.2', port: 2526, bracketed: true });
  });
  test('.parent matches subdomains, not the parent itself', () => {
    assert.deepEqual(lookupTransport(table, 'a.b.example.com'), { host: 'relay.example.net', port: null, bracketed: false });
  });
  test('continuation value', () => assert.deepEqual(lookupTransport(table, 'multi.test'), { host: '127.0.0.9', port: 26, bracketed: true }));
  test('* catches the rest; empty next hop entries are skipped', () => {
    assert.deepEqual(lookupTransport(table, 'default.test'), { host: 'smarthost.test', port: null, bracketed: true });
    assert.deepEqual(lookupTransport(table, 'other.org'), { host: 'smarthost.test', port: null, bracketed: true });
  });
  test('no entry → undefined (MX routing)', () => {
    assert.equal(lookupTransport(buildTransportTable({}), 'example.org'), undefined);
  });
  test('errors name the file line', () => {
    assert.throws(() => buildTransportTable({}, 'ok.test [127.0.0.1]\nbad.test 10.0.0.1:25\n'), /line 2/);
    assert.throws(() => buildTransportTable({}, 'lonely.test\n'), /line 1: no next hop/);
    assert.throws(() => buildTransportTable({ 'bad key!': '[h]' }), TransportMapError);
  });
});
