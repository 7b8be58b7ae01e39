import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStsTxt } from '../../src/core/sts-record.ts';

describe('RFC 8461 §3.1: the _mta-sts TXT record', () => {
  // [title, TXT strings, expected: id or 'none']
  const rows: Array<[string, string[], string]> = [
    ['§3.1: v=STSv1 and an id give a record', ['v=STSv1; id=20160831085700Z;'], '20160831085700Z'],
    ['§3.1: the trailing separator is optional', ['v=STSv1; id=abc123'], 'abc123'],
    ['§3.1: WSP around ";" is allowed', ['v=STSv1;id=abc \t; ext=1'], 'abc'],
    ['§3.1: unknown extension fields are kept, not an error', ['v=STSv1; id=abc; foo_bar.x=y-z'], 'abc'],
    ['§3.1: other TXT strings at the name are discarded', ['some verification token', 'v=STSv1; id=abc;'], 'abc'],
    ['§3.1: no v=STSv1 record -> no policy', ['v=spf1 -all'], 'none'],
    ['§3.1: no TXT at all -> no policy', [], 'none'],
    ['§3.1: two v=STSv1 records -> no policy', ['v=STSv1; id=a;', 'v=STSv1; id=b;'], 'none'],
    ['§3.1: version must be exactly "v=STSv1;" at the start', ['v=STSv2; id=abc;'], 'none'],
    ['§3.1: version is case-sensitive', ['V=STSv1; id=abc;'], 'none'],
    ['§3.1: id is required', ['v=STSv1; foo=bar'], 'none'],
    ['§3.1: id longer than 32 characters is invalid', [`v=STSv1; id=${'a'.repeat(33)}`], 'none'],
    ['§3.1: id of exactly 32 characters is valid', [`v=STSv1; id=${'a'.repeat(32)}`], 'a'.repeat(32)],
    ['§3.1: id with punctuation is invalid', ['v=STSv1; id=2016-08-31;'], 'none'],
    ['§3.1: empty id is invalid', ['v=STSv1; id=;'], 'none'],
    ['§3.1: two id fields are invalid', ['v=STSv1; id=a; id=b'], 'none'],
    ['§3.1: a field without "=" is invalid', ['v=STSv1; id=a; garbage'], 'none'],
    ['§3.1: an extension value with a space is invalid', ['v=STSv1; id=a; x=a b'], 'none'],
  ];
  for (const [title, texts, expected] of rows) {
    test(title, () => {
      const r = parseStsTxt(texts);
      if (expected === 'none') {
        assert.equal(r.kind, 'none', JSON.stringify(r));
        assert.ok(r.kind === 'none' && r.reason.length > 0);
      } else {
        assert.deepEqual(r.kind === 'record' ? r.id : r, expected);
      }
    });
  }
  test('§3.1: extension fields are returned by name', () => {
    assert.deepEqual(parseStsTxt(['v=STSv1; id=a; k1=v1; k2=v2']), { kind: 'record', id: 'a', extensions: { k1: 'v1', k2: 'v2' } });
  });
});
