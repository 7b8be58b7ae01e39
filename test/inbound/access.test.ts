import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkMatcher, parseClientAddress } from '../../src/inbound/access.ts';

test('parseClientAddress: canonical text (IPv4-mapped IPv6 as IPv4), undefined for what is not an address', () => {
  const cases: Array<[string, string | undefined]> = [
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:0:0::1', '2001:db8::1'],
    ['::1', '::1'],
    ['not-an-address', undefined],
    ['', undefined],
    ['192.0.2.256', undefined],
  ];
  for (const [input, text] of cases) assert.equal(parseClientAddress(input)?.text, text, input);
});

test('parseClientAddress parses an address once: the second call returns the same parsed value', () => {
  const first = parseClientAddress('198.51.100.7');
  assert.ok(first);
  assert.equal(parseClientAddress('198.51.100.7'), first);
});

test('networkMatcher over memoised addresses: the same answers on repeated calls, per matcher', () => {
  const loopback = networkMatcher(['127.0.0.0/8', '::1/128']);
  const lan = networkMatcher(['10.0.0.0/8']);
  for (let i = 0; i < 2; i++) {
    assert.equal(loopback('127.0.0.1'), true);
    assert.equal(loopback('::ffff:127.0.0.1'), true);
    assert.equal(lan('127.0.0.1'), false);
    assert.equal(lan('::ffff:10.1.2.3'), true);
    assert.equal(loopback('bogus'), false);
  }
});
