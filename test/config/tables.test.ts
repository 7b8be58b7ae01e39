/**
 * config/tables: the policy and transport tables are parsed once, at load,
 * into typed values; a typo in a level or an entry stops loading with one
 * line naming the key or the file and line (C19: a mistyped `dane-only`
 * never degrades to a default level at delivery time).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { configTables } from '../../src/config/tables.ts';
import { lookupPolicy } from '../../src/config/tls-policy-map.ts';
import { lookupTransport } from '../../src/config/transport-map.ts';

const dir = mkdtempSync(join(tmpdir(), 'dane-relay-tables-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('load-time validation of levels and tables (C19)', () => {
  const cases: Array<{ name: string; input: () => unknown; message: RegExp }> = [
    { name: 'security_level typo', input: () => ({ tls: { security_level: 'dnae' } }), message: /^config error: tls\.security_level: unknown value "dnae", expected one of none, may, encrypt/ },
    { name: 'insecure-MX policy typo', input: () => ({ tls: { dane_insecure_mx_policy: 'mey' } }), message: /^config error: tls\.dane_insecure_mx_policy: unknown value "mey"/ },
    { name: 'inline policy entry typo', input: () => ({ tls: { policy: { 'example.com': 'dane-onyl' } } }), message: /^config error: tls\.policy\.example\.com: unknown security level "dane-onyl"/ },
    {
      name: 'policy file line typo names the file and line',
      input: () => ({ tls: { policy_file: file('pol', '# c\nexample.org dane-only\nexample.com dane-onyl\n') } }),
      message: /^config error: tls\.policy_file: \/.*\/pol: line 3: unknown security level "dane-onyl"$/,
    },
    { name: 'inline transport entry', input: () => ({ delivery: { transport: { 'example.com': '10.0.0.1:25' } } }), message: /^config error: delivery\.transport\.example\.com: an IP address next hop must be bracketed/ },
    {
      name: 'transport file line names the file and line',
      input: () => ({ delivery: { transport_file: file('tr', 'ok.test [127.0.0.1]\nbad.test smtp:[\n') } }),
      message: /^config error: delivery\.transport_file: \/.*\/tr: line 2: /,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: parseConfig throws one ConfigError line`, () => {
      assert.throws(() => parseConfig(c.input()), (err: unknown) => err instanceof ConfigError && c.message.test(err.message) && !err.message.includes('\n'));
    });
  }
});

describe('configTables: typed, parsed once', () => {
  test('the relay and the tools receive the same parsed tables for one config (no second read)', () => {
    const policyFile = file('pol-ok', 'example.com dane-only\n');
    const config = parseConfig({ tls: { security_level: 'may', policy_file: policyFile }, delivery: { transport: { '.example.net': '[127.0.0.2]:2526' } } });
    const first = configTables(config);
    writeFileSync(policyFile, 'example.com none\n');
    assert.equal(configTables(config), first, 'same object: the file is not read again');
    assert.equal(lookupPolicy(first.policy, { domain: 'example.com' }, first.defaults).level, 'dane-only');
    assert.equal(lookupPolicy(first.policy, { domain: 'other.test' }, first.defaults).level, 'may');
    assert.deepEqual(lookupTransport(first.transport, 'a.example.net'), { host: '127.0.0.2', port: 2526, bracketed: true });
    assert.deepEqual(first.defaults, { level: 'may', insecureMxPolicy: 'dane' });
  });
});
