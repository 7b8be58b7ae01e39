/**
 * The checks the lab's TLSRPT row applies to the reports it receives
 * (RFC 8460 §4.4 JSON structure, §5.3 mail form): they accept a report the
 * relay composes and reject broken ones, so the lab row can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeReportMail } from '../../src/tlsrpt/mail.ts';
import { buildReport, dayRange } from '../../src/tlsrpt/report.ts';
import type { TlsrptAttempt } from '../../src/tlsrpt/result-types.ts';
import { reportFromMail, reportProblems } from '../../src/lab/tlsrpt-follow-up.ts';

const ATTEMPT: TlsrptAttempt = {
  at: Date.UTC(2026, 11, 1, 12), policyDomain: 'example.com', policyType: 'tlsa', policyStrings: ['3 1 1 abcd'],
  mxHost: ['mx.example.com'], receivingMxHostname: 'mx.example.com', result: { kind: 'success' },
};
const report = buildReport('example.com', [ATTEMPT], { organizationName: 'relay.example', contactInfo: 'postmaster@relay.example', reportId: 'r1', range: dayRange('2026-12-01') });

test('RFC 8460 §5.3: the gzip JSON attachment of a composed report mail round-trips and validates', async () => {
  const mail = await composeReportMail({ report, policyDomain: 'example.com', range: dayRange('2026-12-01'), to: 'tlsrpt@example.com', now: Date.UTC(2026, 11, 2) });
  const got = reportFromMail(mail.message.toString('utf8'));
  assert.ok('json' in got, 'problem' in got ? got.problem : '');
  assert.deepEqual(got.json, report);
  assert.deepEqual(reportProblems('mailto', got.json, 'example.com'), []);
});

test('RFC 8460 §4.4: a report without the session, or missing a required field, is a problem', () => {
  assert.match(reportProblems('x', report, 'other.example').join(), /no successful tlsa session counted for other\.example/);
  const { policies: _p, ...noPolicies } = report;
  assert.ok(reportProblems('x', noPolicies, 'example.com').length >= 1);
  assert.ok('problem' in reportFromMail('Content-Type: text/plain\r\n\r\nhello'));
});
