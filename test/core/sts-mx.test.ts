import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mxPatternMatches, policyAllowsMx } from '../../src/core/sts-mx.ts';

describe('RFC 8461 §4.1: MX host validation', () => {
  const rows: Array<[string, string, string, boolean]> = [
    ['§4.1: exact name matches', 'mail.example.com', 'mail.example.com', true],
    ['§4.1: exact name: another host does not match', 'mail.example.com', 'mx.example.com', false],
    ['§4.1: wildcard covers one label', '*.example.com', 'mail.example.com', true],
    ['§4.1: wildcard does not cover two labels (mailauth 5.x suffix bug)', '*.example.com', 'a.b.example.com', false],
    ['§4.1: wildcard does not match the parent itself', '*.example.com', 'example.com', false],
    ['§4.1: wildcard does not match a name that merely ends the same', '*.example.com', 'mailexample.com', false],
    ['§4.1: wildcard does not match an empty label', '*.example.com', '.example.com', false],
    ['§4.1: comparison is case-insensitive', '*.EXAMPLE.com', 'Mail.Example.COM', true],
    ['§4.1: trailing dot on the host is ignored', 'mail.example.com', 'mail.example.com.', true],
    ['§4.1: trailing dot on the pattern is ignored', '*.example.com.', 'mail.example.com', true],
    ['§4.1: an exact pattern does not match a subdomain', 'example.com', 'mail.example.com', false],
    ['§4.1: an empty pattern matches nothing', '', 'mail.example.com', false],
  ];
  for (const [title, pattern, host, expected] of rows) {
    test(title, () => assert.equal(mxPatternMatches(pattern, host), expected));
  }
  test('§4.1: a host is allowed when any of the repeated mx patterns matches', () => {
    assert.equal(policyAllowsMx(['mx1.example.com', '*.backup.example.net'], 'b.backup.example.net'), true);
    assert.equal(policyAllowsMx(['mx1.example.com', '*.backup.example.net'], 'mx2.example.com'), false);
    assert.equal(policyAllowsMx([], 'mx1.example.com'), false);
  });
});
