import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/load.ts';
import { buildPolicyTable, lookupPolicy, parsePolicyTable, parsePolicyValue } from '../../src/config/tls-policy-map.ts';

const DEFAULTS = { level: 'dane' as const, insecureMxPolicy: 'dane' as const };
const SHA256 = 'AB:CD:' + '01:'.repeat(29) + 'EF';
const SHA256_HEX = 'abcd' + '01'.repeat(29) + 'ef';

const FILE = `# TLS policy for dane-relay
example.com          dane-only
.example.com         may
[mx.example.net]:587 encrypt
[relay.example.net]  secure match=hostname
example.org          fingerprint
    match=sha256:${SHA256}|${'11'.repeat(20)}
example.net   secure match=nexthop:dot-nexthop
insecure.example     dane insecure_mx=encrypt

sub.example.com      verify
`;

describe('parsePolicyTable (Postfix smtp_tls_policy_maps text)', () => {
  const table = parsePolicyTable(FILE, 'tls_policy');
  const look = (domain: string, bracketed?: { host: string; port: number }) => lookupPolicy(table, { domain, ...(bracketed ? { bracketed } : {}) }, DEFAULTS);

  test('C19: an exact domain entry (dane-only) is found', () => {
    assert.deepEqual(look('example.com'), { level: 'dane-only', fingerprints: [], match: [], insecureMxPolicy: 'dane', source: 'example.com' });
  });

  test('.domain entries match subdomains, nearest parent first, not the domain itself', () => {
    assert.equal(look('a.example.com').level, 'may');
    assert.equal(look('a.example.com').source, '.example.com');
    assert.equal(look('x.sub.example.com').source, '.example.com');
    assert.equal(look('sub.example.com').level, 'verify');
    assert.equal(look('EXAMPLE.COM.').level, 'dane-only');
  });

  test('bracketed next hops: [host]:port, then [host]; no parent lookups', () => {
    assert.equal(look('mx.example.net', { host: 'mx.example.net', port: 587 }).level, 'encrypt');
    assert.equal(look('mx.example.net', { host: 'mx.example.net', port: 25 }).source, 'default');
    assert.deepEqual(look('relay.example.net', { host: 'relay.example.net', port: 25 }).match, ['hostname']);
    assert.equal(look('x.example.com', { host: 'x.example.com', port: 25 }).source, 'default');
  });

  test('fingerprint entries over a continuation line, with and without the algorithm prefix', () => {
    const p = look('example.org');
    assert.equal(p.level, 'fingerprint');
    assert.deepEqual(p.fingerprints, [{ algorithm: 'sha256', digest: SHA256_HEX }, { algorithm: 'sha1', digest: '11'.repeat(20) }]);
  });

  test('secure match=nexthop:dot-nexthop and per-entry insecure_mx', () => {
    assert.deepEqual(look('example.net').match, ['nexthop', 'dot-nexthop']);
    assert.equal(look('insecure.example').insecureMxPolicy, 'encrypt');
  });

  test('no entry -> the defaults', () => {
    assert.deepEqual(look('elsewhere.test'), { level: 'dane', fingerprints: [], match: [], insecureMxPolicy: 'dane', source: 'default' });
    assert.deepEqual(lookupPolicy(table, { domain: 'x.test' }, { level: 'secure', insecureMxPolicy: 'may' }).match, ['nexthop', 'dot-nexthop']);
  });
});

describe('parsePolicyValue', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['dane', { level: 'dane', match: [], fingerprints: [] }],
    ['DANE-ONLY', { level: 'dane-only' }],
    ['verify', { level: 'verify', match: ['hostname'] }],
    ['secure', { level: 'secure', match: ['nexthop', 'dot-nexthop'] }],
    ['secure match=mail.example.com:.example.org', { match: ['mail.example.com', '.example.org'] }],
    ['verify match=hostname match=nexthop', { match: ['hostname', 'nexthop'] }],
    [`fingerprint match=${'aa'.repeat(64)}`, { fingerprints: [{ algorithm: 'sha512', digest: 'aa'.repeat(64) }] }],
    ['dane insecure_mx=may', { insecureMxPolicy: 'may' }],
  ];
  for (const [rhs, expected] of cases) {
    test(`"${rhs}"`, () => {
      const p = parsePolicyValue(rhs, { insecureMxPolicy: 'encrypt' });
      for (const [k, v] of Object.entries(expected)) assert.deepEqual((p as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  test('the default insecure-MX policy applies when the entry sets none', () => {
    assert.equal(parsePolicyValue('dane', { insecureMxPolicy: 'encrypt' }).insecureMxPolicy, 'encrypt');
  });

  const bad: Array<[string, RegExp]> = [
    ['', /unknown security level/],
    ['maybe', /unknown security level "maybe"/],
    ['fingerprint', /needs match=/],
    ['fingerprint match=zz:zz', /bad fingerprint/],
    ['fingerprint match=sha256:ab:cd', /2 bytes, not a sha256 digest/],
    ['encrypt match=hostname', /match= is not allowed at level encrypt/],
    ['dane insecure_mx=verify', /insecure_mx must be dane, encrypt or may/],
    ['may ciphers=high', /unsupported attribute "ciphers"/],
    ['secure match=bad_name!', /bad match name/],
    ['dane foo', /expected name=value/],
  ];
  for (const [rhs, message] of bad) {
    test(`rejects "${rhs}" with a ConfigError`, () => {
      assert.throws(() => parsePolicyValue(rhs, { insecureMxPolicy: 'dane' }), (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG' && message.test(err.message));
    });
  }
});

describe('errors name the line or key', () => {
  const bad: Array<[string, RegExp]> = [
    ['example.com dane\nexample.org bogus\n', /^config error: pol: line 2: unknown security level "bogus"/],
    ['example.com\n', /pol: line 1: expected "key value"/],
    ['  may\n', /pol: line 1: continuation line without a preceding entry/],
    ['bad..key dane\n', /pol: line 1: bad key "bad\.\.key"/],
    ['[mx.example.net]:70000 dane\n', /pol: line 1: bad port/],
    ['example.com dane\n# c\nExample.COM. may\n', /pol: line 3: duplicate key "example.com"/],
  ];
  for (const [text, message] of bad) {
    test(`file: ${JSON.stringify(text)}`, () => {
      assert.throws(() => parsePolicyTable(text, 'pol'), (err: unknown) => err instanceof ConfigError && message.test(err.message));
    });
  }

  test('YAML tls.policy: a bad value names the key', () => {
    assert.throws(() => buildPolicyTable({ 'example.com': 'sometimes' }), /config error: tls\.policy\.example\.com: unknown security level/);
    assert.throws(() => buildPolicyTable({ 'not a key': 'may' }), /tls\.policy\.not a key: bad key/);
  });

  test('YAML tls.policy and the policy file together; a key in both is an error', () => {
    const t = buildPolicyTable({ '.example.org': 'encrypt', '[smart.example.net]:587': 'secure match=hostname' }, 'example.com dane-only\n');
    assert.equal(lookupPolicy(t, { domain: 'example.com' }, DEFAULTS).level, 'dane-only');
    assert.equal(lookupPolicy(t, { domain: 'a.example.org' }, DEFAULTS).level, 'encrypt');
    assert.equal(lookupPolicy(t, { domain: 'smart.example.net', bracketed: { host: 'smart.example.net', port: 587 } }, DEFAULTS).level, 'secure');
    assert.throws(() => buildPolicyTable({ 'EXAMPLE.com': 'may' }, 'example.com dane-only\n'), /tls\.policy\.EXAMPLE\.com: also defined in tls\.policy_file/);
    assert.throws(() => buildPolicyTable({}, 'x bogus\n'), /tls\.policy_file: line 1/);
  });
});
