/** Domain lists for `dane-relay check --file`, and the text renderer's terminal hygiene. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDomains, normaliseDomain, parseDomainList } from '../../../src/tools/check/domain-list.ts';
import { renderText } from '../../../src/tools/check/render-text.ts';
import type { CheckReport } from '../../../src/tools/check/types.ts';

describe('check domain list', () => {
  test('comments, blank lines, trailing dots, case and duplicates', () => {
    const text = '# our partners\n\nExample.COM.\n  mail.example.org   # secondary\n#example.net\nexample.com\r\n';
    assert.deepEqual(parseDomainList(text, 'list.txt'), { kind: 'ok', domains: ['example.com', 'mail.example.org', 'example.com'] });
    const merged = mergeDomains(['a.test', 'example.com'], ['example.com', 'b.test']);
    assert.deepEqual(merged, { kind: 'ok', domains: ['a.test', 'example.com', 'b.test'] });
  });

  test('a line that is not a domain names the file and line', () => {
    const r = parseDomainList('ok.test\nuser@example.com\n', 'list.txt');
    assert.equal(r.kind, 'error');
    if (r.kind === 'error') assert.match(r.message, /^list\.txt:2: not a domain name/);
    const table: Array<[string, string | null]> = [['a..b', null], ['-a.test', null], ['a b', null], ['', null], ['x'.repeat(64) + '.test', null], ['_25._tcp.mx.test', '_25._tcp.mx.test'], ['XN--BCHER-KVA.test.', 'xn--bcher-kva.test']];
    for (const [input, want] of table) assert.equal(normaliseDomain(input), want, input);
  });
});

describe('check text output', () => {
  const report = (reason: string): CheckReport => ({
    version: 1, level: null, dnssecProbe: { ok: true }, exitCode: 1,
    summary: { domains: 1, pass: 0, degraded: 0, fail: 1 },
    domains: [{
      domain: 'd.test', nextHop: 'd.test', verdict: 'fail', reason, dsn: '4.7.5', deliverVia: null, notes: [],
      policy: null, mx: { route: 'mx', dnssec: 'secure', records: [] }, hosts: [],
    }],
  });

  test('colour only when asked for; plain text otherwise', () => {
    assert.doesNotMatch(renderText(report('Server certificate not verified'), false), /\u001b/);
    assert.match(renderText(report('Server certificate not verified'), true), /\u001b\[31mFAIL\u001b\[0m/);
  });

  test('control characters from the network never reach the terminal', () => {
    const out = renderText(report('host said: 554 \u001b[2Jgone\u0007'), false);
    assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f]/);
    assert.match(out, /554 \?\[2Jgone\?/);
  });
});
