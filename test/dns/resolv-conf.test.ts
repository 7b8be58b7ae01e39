/**
 * resolv.conf parsing and server addresses; search lists are ignored (C7).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsConfigError, parseServerAddress, readResolvConf, readSystemResolvConf } from '../../src/dns/resolv-conf.ts';

describe('resolv.conf', () => {
  test('parseServerAddress: IPv4, IPv4:port, bare IPv6, [IPv6]:port', () => {
    const table: Array<[string, { host: string; port: number }]> = [
      ['127.0.0.1', { host: '127.0.0.1', port: 53 }],
      ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353 }],
      ['::1', { host: '::1', port: 53 }],
      ['[::1]:53', { host: '::1', port: 53 }],
      ['[::1]:5300', { host: '::1', port: 5300 }],
      ['[fe80::1%eth0]', { host: 'fe80::1', port: 53 }],
      [' 10.0.0.1 ', { host: '10.0.0.1', port: 53 }],
    ];
    for (const [s, want] of table) assert.deepEqual(parseServerAddress(s), want, s);
  });

  test('parseServerAddress: host names and bad ports are configuration errors', () => {
    for (const s of ['dns.example.com', '127.0.0.1:0', '127.0.0.1:70000', '127.0.0.1:x', '[::1]:', '']) {
      assert.throws(() => parseServerAddress(s), DnsConfigError, s);
    }
  });

  test('C7: nameserver lines and options timeout/attempts are read; search/domain are ignored', () => {
    const conf = readResolvConf([
      '# comment', 'search corp.example example.net', 'domain corp.example',
      'nameserver 127.0.0.53', 'nameserver ::1  ; trailing comment', 'nameserver not-an-ip',
      'options edns0 timeout:3 attempts:4 rotate', '',
    ].join('\n'));
    assert.deepEqual(conf, {
      servers: [{ host: '127.0.0.53', port: 53 }, { host: '::1', port: 53 }], timeoutMs: 3000, attempts: 4,
    });
  });

  test('glibc limits: at most 3 servers, timeout ≤ 30 s, attempts ≤ 5; defaults without lines', () => {
    const many = readResolvConf('nameserver 127.0.0.1\nnameserver 127.0.0.2\nnameserver 127.0.0.3\nnameserver 127.0.0.4\noptions timeout:99 attempts:9');
    assert.equal(many.servers.length, 3);
    assert.equal(many.timeoutMs, 30_000);
    assert.equal(many.attempts, 5);
    assert.deepEqual(readResolvConf(''), { servers: [{ host: '127.0.0.1', port: 53 }], timeoutMs: 2000, attempts: 2 });
  });

  test('readSystemResolvConf reads a file; a missing file gives the defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dane-dns-'));
    try {
      const f = join(dir, 'resolv.conf');
      await writeFile(f, 'nameserver 127.0.0.9\n');
      assert.deepEqual((await readSystemResolvConf(f)).servers, [{ host: '127.0.0.9', port: 53 }]);
      assert.deepEqual((await readSystemResolvConf(join(dir, 'missing'))).servers, [{ host: '127.0.0.1', port: 53 }]);
    } finally { await rm(dir, { recursive: true, force: true }); }
  });
});

describe('client options from configuration or resolv.conf', () => {
  test('configured servers win; otherwise resolv.conf servers, timeout and attempts', async () => {
    const { buildDnsClientOptions } = await import('../../src/dns/options.ts');
    const dir = await mkdtemp(join(tmpdir(), 'dane-dns-'));
    try {
      const f = join(dir, 'resolv.conf');
      await writeFile(f, 'nameserver 127.0.0.9\noptions timeout:4 attempts:3\n');
      const fromConf = await buildDnsClientOptions({ resolvConfPath: f });
      assert.deepEqual([fromConf.servers, fromConf.timeoutMs, fromConf.attempts], [[{ host: '127.0.0.9', port: 53 }], 4000, 3]);
      assert.deepEqual(fromConf.trustedNetworks, ['127.0.0.0/8', '::1/128']);
      const configured = await buildDnsClientOptions({ resolvConfPath: f, servers: ['127.0.0.1:5353', '[::1]:53'], timeoutMs: 500 });
      assert.deepEqual(configured.servers, [{ host: '127.0.0.1', port: 5353 }, { host: '::1', port: 53 }]);
      assert.equal(configured.timeoutMs, 500);
      await assert.rejects(buildDnsClientOptions({ resolvConfPath: f, trustedNetworks: ['bad'] }), DnsConfigError);
    } finally { await rm(dir, { recursive: true, force: true }); }
  });
});
