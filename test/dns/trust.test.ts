/**
 * Whose AD bit is believed (C6).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DnsConfigError } from '../../src/dns/resolv-conf.ts';
import { DEFAULT_TRUSTED_NETWORKS, describeTrust, isTrustedServer, parseTrustedNetworks } from '../../src/dns/trust.ts';

describe('trusted resolvers', () => {
  test('C6: loopback trusted by default; anything else is not', () => {
    const nets = parseTrustedNetworks(DEFAULT_TRUSTED_NETWORKS);
    const table: Array<[string, boolean]> = [
      ['127.0.0.1', true], ['127.0.0.53', true], ['::1', true], ['::ffff:127.0.0.1', true],
      ['10.0.0.1', false], ['8.8.8.8', false], ['::2', false], ['fe80::1', false], ['nonsense', false],
    ];
    for (const [host, want] of table) assert.equal(isTrustedServer(host, nets), want, host);
  });

  test('C6: configurable CIDR list, bare addresses accepted, bad CIDR is a configuration error', () => {
    const nets = parseTrustedNetworks(['10.0.0.0/8', '192.0.2.53']);
    assert.equal(isTrustedServer('10.1.2.3', nets), true);
    assert.equal(isTrustedServer('192.0.2.53', nets), true);
    assert.equal(isTrustedServer('127.0.0.1', nets), false);
    assert.throws(() => parseTrustedNetworks(['10.0.0.0/33']), DnsConfigError);
    assert.throws(() => parseTrustedNetworks(['not-a-net']), DnsConfigError);
  });

  test('C6: describeTrust warns about every untrusted resolver', () => {
    const nets = parseTrustedNetworks(DEFAULT_TRUSTED_NETWORKS);
    const ok = describeTrust([{ host: '127.0.0.1', port: 53 }], nets, DEFAULT_TRUSTED_NETWORKS);
    assert.doesNotMatch(ok, /WARNING/);
    const mixed = describeTrust([{ host: '127.0.0.1', port: 53 }, { host: '192.0.2.1', port: 53 }, { host: '2001:db8::1', port: 5353 }], nets, DEFAULT_TRUSTED_NETWORKS);
    assert.match(mixed, /WARNING resolver\(s\) 192\.0\.2\.1:53, \[2001:db8::1\]:5353 .*ignored/);
    assert.match(mixed, /AD trusted from 127\.0\.0\.1:53/);
  });
});
