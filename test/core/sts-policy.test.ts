import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStsPolicy, STS_MAX_AGE_LIMIT_SECONDS } from '../../src/core/sts-policy.ts';

const GOOD = 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n';

describe('RFC 8461 §3.2: the policy file', () => {
  test('§3.2: a CRLF policy parses into mode, mx patterns and max_age', () => {
    const r = parseStsPolicy(GOOD);
    assert.equal(r.kind, 'policy');
    assert.ok(r.kind === 'policy');
    assert.equal(r.policy.mode, 'enforce');
    assert.deepEqual(r.policy.mx, ['mail.example.com', '*.example.net']);
    assert.equal(r.policy.maxAge, 86400);
    assert.deepEqual(r.policy.lines, ['version: STSv1', 'mode: enforce', 'mx: mail.example.com', 'mx: *.example.net', 'max_age: 86400']);
    assert.deepEqual(r.policy.warnings, []);
  });
  test('§3.2: LF line endings give the same policy as CRLF', () => {
    assert.deepEqual(parseStsPolicy(GOOD.replace(/\r\n/g, '\n')), parseStsPolicy(GOOD));
  });

  // [title, body, expected: mode | 'invalid']
  const rows: Array<[string, string, string]> = [
    ['§3.2: testing mode', 'version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 600', 'testing'],
    ['§3.2: mode none needs no mx', 'version: STSv1\nmode: none\nmax_age: 600', 'none'],
    ['§3.2: field order does not matter', 'max_age: 600\nmx: mx.example.com\nmode: enforce\nversion: STSv1', 'enforce'],
    ['§3.2: unknown keys are ignored', 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 600\nfuture_key: whatever value', 'enforce'],
    ['§3.2: no space after ":" is allowed (*WSP)', 'version:STSv1\nmode:enforce\nmx:mx.example.com\nmax_age:600', 'enforce'],
    ['§3.2: trailing whitespace and empty lines are ignored', 'version: STSv1  \n\nmode: enforce\t\nmx: mx.example.com\nmax_age: 600\n\n', 'enforce'],
    ['§3.2: unknown mode is invalid', 'version: STSv1\nmode: report\nmx: mx.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: mode is case-sensitive', 'version: STSv1\nmode: Enforce\nmx: mx.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: missing version is invalid', 'mode: enforce\nmx: mx.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: wrong version is invalid', 'version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: missing mode is invalid', 'version: STSv1\nmx: mx.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: missing max_age is invalid', 'version: STSv1\nmode: enforce\nmx: mx.example.com', 'invalid'],
    ['§3.2: non-numeric max_age is invalid', 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1d', 'invalid'],
    ['§3.2: negative max_age is invalid', 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: -5', 'invalid'],
    ['§3.2: max_age of more than 10 digits is invalid', 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 12345678901', 'invalid'],
    ['§3.2: enforce without mx is invalid', 'version: STSv1\nmode: enforce\nmax_age: 600', 'invalid'],
    ['§3.2: testing without mx is invalid', 'version: STSv1\nmode: testing\nmax_age: 600', 'invalid'],
    ['§3.2: mode given twice is invalid', 'version: STSv1\nmode: enforce\nmode: none\nmx: mx.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: a line without ":" is invalid', 'version: STSv1\nmode: enforce\nmx mx.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: a wildcard inside a label is invalid', 'version: STSv1\nmode: enforce\nmx: m*.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: a wildcard not left-most is invalid', 'version: STSv1\nmode: enforce\nmx: mx.*.example.com\nmax_age: 600', 'invalid'],
    ['§3.2: an empty mx is invalid', 'version: STSv1\nmode: enforce\nmx: \nmax_age: 600', 'invalid'],
    ['§3.2: an HTML error page is invalid', '<html><body>Not found</body></html>', 'invalid'],
    ['§3.2: an empty body is invalid', '', 'invalid'],
  ];
  for (const [title, body, expected] of rows) {
    test(title, () => {
      const r = parseStsPolicy(body);
      assert.equal(r.kind === 'policy' ? r.policy.mode : r.kind, expected, JSON.stringify(r));
    });
  }

  test('§3.2: mx patterns are lower-cased and lose a trailing dot', () => {
    const r = parseStsPolicy('version: STSv1\nmode: enforce\nmx: *.MAIL.Example.COM.\nmax_age: 600');
    assert.ok(r.kind === 'policy');
    assert.deepEqual(r.policy.mx, ['*.mail.example.com']);
  });
  test('§3.2: max_age above 31557600 is capped and the cap is reported, the policy stays in force', () => {
    const r = parseStsPolicy('version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 99999999');
    assert.ok(r.kind === 'policy');
    assert.equal(r.policy.maxAge, STS_MAX_AGE_LIMIT_SECONDS);
    assert.equal(r.policy.warnings.length, 1);
  });
  test('§3.2: max_age exactly 31557600 is kept without warning', () => {
    const r = parseStsPolicy('version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557600');
    assert.ok(r.kind === 'policy');
    assert.equal(r.policy.maxAge, 31557600);
    assert.deepEqual(r.policy.warnings, []);
  });
});
