import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, defaultConfig, loadConfig, parseConfig } from '../../src/config/load.ts';
import { durationToMs } from '../../src/config/schema.ts';

const EXAMPLE = resolve('config/dane-relay.example.yaml');

function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('configuration', () => {
  test('no file at all: embedded defaults (listen 127.0.0.1:2525, spool ./var/spool, loopback mynetworks)', () => {
    const c = loadConfig(undefined, {});
    assert.deepEqual(c.listen, ['127.0.0.1:2525']);
    assert.equal(c.spool, resolve('var/spool'));
    assert.deepEqual(c.mynetworks, ['127.0.0.0/8', '::1/128']);
    assert.equal(c.myhostname, hostname());
    assert.deepEqual(c.dns.resolvers, []);
    assert.equal(c.queue.min_backoff, 300_000, 'durations are milliseconds after parsing');
    assert.equal(c.queue.max_backoff, 4_000_000);
    assert.equal(c.queue.max_lifetime, 5 * 86_400_000);
    assert.equal(c.inbound.max_message_size, 10_485_760);
    assert.equal(c.tls.security_level, 'dane');
    assert.equal(c.metrics.listen, null);
  });

  test('the example file documents every key, each with its default value', async () => {
    const fromExample = loadConfig(EXAMPLE);
    assert.deepEqual(fromExample, defaultConfig());
    const text = await readFile(EXAMPLE, 'utf8');
    for (const path of leafPaths(defaultConfig())) {
      const key = path.split('.').at(-1) ?? '';
      assert.match(text, new RegExp(`^\\s*#?\\s*${key}:`, 'm'), `example documents ${path}`);
    }
  });

  test('the result is deep-frozen', () => {
    const c = defaultConfig();
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.queue) && Object.isFrozen(c.mynetworks));
    assert.throws(() => {
      (c.queue as { concurrency: number }).concurrency = 1;
    }, TypeError);
  });

  const durations: Array<[number | string, number | undefined]> = [
    [300, 300_000], ['300', 300_000], ['300s', 300_000], ['5m', 300_000], ['1h', 3_600_000], ['5d', 432_000_000], ['2w', 1_209_600_000], [0.5, 500],
    ['5 days', undefined], ['-1s', undefined], [-1, undefined], ['', undefined],
  ];
  for (const [input, ms] of durations) {
    test(`duration ${JSON.stringify(input)} -> ${ms === undefined ? 'rejected' : `${ms} ms`}`, () => assert.equal(durationToMs(input), ms));
  }

  const bad: Array<[string, unknown, RegExp]> = [
    ['unknown top-level key', { listn: ['127.0.0.1:25'] }, /^config error: listn: unknown key$/],
    ['unknown nested key', { queue: { min_backof: 1 } }, /^config error: queue\.min_backof: unknown key$/],
    ['wrong type', { inbound: { max_message_size: '10M' } }, /^config error: inbound\.max_message_size: expected number/],
    ['bad CIDR', { mynetworks: ['127.0.0.0/33'] }, /^config error: mynetworks\.0: expected a CIDR/],
    ['CIDR without a prefix', { mynetworks: ['10.0.0.1'] }, /^config error: mynetworks\.0: expected a CIDR/],
    ['bad duration', { queue: { min_backoff: '5 minutes' } }, /^config error: queue\.min_backoff: expected a duration/],
    ['bad listen address', { listen: ['localhost'] }, /^config error: listen\.0: expected HOST:PORT/],
    ['bad enum', { dns: { dnssec_probe: { on_failure: 'ignore' } } }, /^config error: dns\.dnssec_probe\.on_failure: /],
    ['empty policy value', { tls: { policy: { 'example.com': '' } } }, /^config error: tls\.policy\.example\.com: expected a non-empty string/],
    ['unreadable cert', { inbound: { tls: { cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' } } }, /^config error: inbound\.tls\.cert: cannot read \/nonexistent\/cert\.pem: ENOENT$/],
    ['unreadable ca_file', { tls: { ca_file: '/nonexistent/ca.pem' } }, /^config error: tls\.ca_file: cannot read/],
    ['top level not a mapping', ['a'], /^config error: \(top level\)/],
  ];
  for (const [name, input, message] of bad) {
    test(`a bad config is refused with one message naming the key: ${name}`, () => {
      assert.throws(() => parseConfig(input), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    });
  }

  test('a users file needs STARTTLS configured; a cert that does not load is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dane-relay-config-'));
    try {
      const users = join(dir, 'users');
      await writeFile(users, '');
      assert.throws(() => parseConfig({ inbound: { auth: { users_file: users } } }), /inbound\.auth\.users_file: AUTH is offered only after STARTTLS/);
      const junk = join(dir, 'junk.pem');
      await writeFile(junk, 'not a certificate');
      assert.throws(() => parseConfig({ inbound: { tls: { cert: junk, key: junk } } }), /config error: inbound\.tls\.cert: cannot load certificate and key/);
      assert.throws(() => parseConfig({ inbound: { tls: { cert: junk } } }), /inbound\.tls\.key: cert and key must be set together/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--listen and --spool overrides win over the file; a YAML error names the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dane-relay-config-'));
    try {
      const file = join(dir, 'relay.yaml');
      await writeFile(file, 'listen: ["127.0.0.1:2600"]\nspool: /srv/spool\nqueue:\n  min_backoff: 1m\n');
      const c = loadConfig(file, { listen: ['127.0.0.1:2700'], spool: join(dir, 'spool') });
      assert.deepEqual(c.listen, ['127.0.0.1:2700']);
      assert.equal(c.spool, join(dir, 'spool'));
      assert.equal(c.queue.min_backoff, 60_000);
      assert.deepEqual(loadConfig(file, { listen: undefined }).listen, ['127.0.0.1:2600']);
      await writeFile(file, 'listen: [\n');
      assert.throws(() => loadConfig(file), /config error: .*relay\.yaml: not valid YAML/);
      assert.throws(() => loadConfig(join(dir, 'missing.yaml')), /config error: cannot read .*missing\.yaml: ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
