import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, dayRange } from '../../src/tlsrpt/report.ts';
import { renderDailyReports } from '../../src/tlsrpt/show.ts';

const range = dayRange('2026-11-30');
const report = buildReport('example.com', [
  { at: range.start.getTime(), policyDomain: 'example.com', policyType: 'sts', policyStrings: ['mode: enforce'], mxHost: ['*.example.com'], receivingMxHostname: 'mx.example.com', receivingIp: '192.0.2.1', result: { kind: 'failure', resultType: 'certificate-host-mismatch', reasonCode: 'name mismatch' } },
  { at: range.start.getTime(), policyDomain: 'example.com', policyType: 'sts', policyStrings: ['mode: enforce'], mxHost: ['*.example.com'], receivingMxHostname: 'mx.example.com', result: { kind: 'success' } },
], { organizationName: 'o', contactInfo: 'c@o.example', reportId: 'r', range });

test('tlsrpt show: per domain the destination, per policy the counts and failure details', () => {
  const text = renderDailyReports('2026-11-30', [{ kind: 'ready', domain: 'example.com', report, rua: [{ kind: 'mailto', address: 'tls@example.com', uri: 'mailto:tls@example.com' }] }]);
  assert.equal(text, [
    'TLSRPT 2026-11-30: 1 policy domain(s)',
    '',
    'example.com: reports to mailto:tls@example.com',
    '  sts mx-host *.example.com: 1 successful, 1 failed',
    '    1 x certificate-host-mismatch at mx.example.com[192.0.2.1] (name mismatch)',
    '',
  ].join('\n'));
});

test('tlsrpt show: a day without attempts says so', () => {
  assert.equal(renderDailyReports('2026-11-30', []), 'TLSRPT 2026-11-30: no delivery attempts recorded\n');
});
