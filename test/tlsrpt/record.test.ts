import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTlsrptTxt } from '../../src/tlsrpt/record.ts';

describe('RFC 8460 §3: the _smtp._tls TXT record', () => {
  test('§3: mailto and https rua, comma-separated with WSP', () => {
    const r = parseTlsrptTxt(['v=TLSRPTv1; rua=mailto:reports@example.com , https://reporting.example.com/v1/tlsrpt']);
    assert.deepEqual(r, {
      kind: 'record',
      rua: [
        { kind: 'mailto', address: 'reports@example.com', uri: 'mailto:reports@example.com' },
        { kind: 'https', url: 'https://reporting.example.com/v1/tlsrpt', uri: 'https://reporting.example.com/v1/tlsrpt' },
      ],
      ignored: [],
    });
  });
  // [title, texts, expected: number of rua | 'none']
  const rows: Array<[string, string[], number | 'none']> = [
    ['§3: other TXT strings are discarded', ['v=spf1 -all', 'v=TLSRPTv1;rua=mailto:tls@example.com'], 1],
    ['§3: a trailing ";" is allowed', ['v=TLSRPTv1; rua=mailto:tls@example.com;'], 1],
    ['§3: extension fields are ignored', ['v=TLSRPTv1; ext=1; rua=https://r.example/x'], 1],
    ['§3: two TLSRPT records: no reporting', ['v=TLSRPTv1; rua=mailto:a@example.com', 'v=TLSRPTv1; rua=mailto:b@example.com'], 'none'],
    ['§3: no record: no reporting', [], 'none'],
    ['§3: rua missing: no reporting', ['v=TLSRPTv1; foo=bar'], 'none'],
    ['§3: rua twice: invalid', ['v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com'], 'none'],
    ['§3: version must lead', ['rua=mailto:a@example.com; v=TLSRPTv1'], 'none'],
    ['§3: an http: URI is not used', ['v=TLSRPTv1; rua=http://r.example/x'], 'none'],
    ['§3: unsupported URIs are ignored, the usable ones kept', ['v=TLSRPTv1; rua=ftp://x.example/,mailto:a@example.com'], 1],
    ['§3: a mailto without an address is not used', ['v=TLSRPTv1; rua=mailto:'], 'none'],
  ];
  for (const [title, texts, expected] of rows) {
    test(title, () => {
      const r = parseTlsrptTxt(texts);
      assert.equal(r.kind === 'record' ? r.rua.length : r.kind, expected, JSON.stringify(r));
    });
  }
  test('§3: ignored URIs are listed for logs', () => {
    const r = parseTlsrptTxt(['v=TLSRPTv1; rua=ftp://x.example/,mailto:a@example.com']);
    assert.deepEqual(r.kind === 'record' && r.ignored, ['ftp://x.example/']);
  });
});
