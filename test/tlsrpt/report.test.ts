/**
 * The aggregate report (RFC 8460 §4.4): built from stored attempts, then
 * validated against the RFC's JSON structure. The sample report printed by
 * `SAMPLE_REPORT=1` is the one shown in the report to the lead.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, dayRange, reportFileName } from '../../src/tlsrpt/report.ts';
import type { TlsrptAttempt } from '../../src/tlsrpt/result-types.ts';
import { validateReport } from '../../src/tlsrpt/validate.ts';

const DAY = dayRange('2026-11-30');
const T = DAY.start.getTime() + 3_600_000;
const STS_LINES = ['version: STSv1', 'mode: enforce', 'mx: *.mail.example.com', 'max_age: 86400'];

function attempt(over: Partial<TlsrptAttempt>): TlsrptAttempt {
  return {
    at: T, policyDomain: 'example.com', policyType: 'sts', policyStrings: STS_LINES, mxHost: ['*.mail.example.com'],
    receivingMxHostname: 'mx1.mail.example.com', receivingIp: '192.0.2.10', sendingMtaIp: '198.51.100.1', result: { kind: 'success' }, ...over,
  };
}
const META = { organizationName: 'relay.example.net', contactInfo: 'postmaster@relay.example.net', reportId: '2026-11-30T00:00:00Z_example.com', range: DAY };

const ATTEMPTS: TlsrptAttempt[] = [
  attempt({}), attempt({}), attempt({ receivingMxHostname: 'mx2.mail.example.com', receivingIp: '192.0.2.11' }),
  attempt({ result: { kind: 'failure', resultType: 'certificate-host-mismatch', reasonCode: 'name mismatch' } }),
  attempt({ result: { kind: 'failure', resultType: 'certificate-host-mismatch', reasonCode: 'name mismatch' } }),
  attempt({ receivingMxHostname: 'mx2.mail.example.com', receivingIp: '192.0.2.11', result: { kind: 'failure', resultType: 'starttls-not-supported' } }),
  attempt({ policyType: 'tlsa', policyStrings: ['3 1 1 ab12'], mxHost: ['mx3.example.com'], receivingMxHostname: 'mx3.example.com' }),
  attempt({ policyType: 'no-policy-found', policyStrings: [], mxHost: [], receivingMxHostname: 'mx4.example.com' }),
  attempt({ policyDomain: 'other.example' }),
  attempt({ at: DAY.end.getTime() + 1000 }), // next day: not in this report
];

describe('RFC 8460 §4.4: the aggregate report', () => {
  const report = buildReport('example.com', ATTEMPTS, META);
  if (process.env.SAMPLE_REPORT) console.log(JSON.stringify(report, null, 2));

  test('§4.4: the built report passes the JSON-structure validation', () => {
    assert.deepEqual(validateReport(report), []);
    assert.deepEqual(validateReport(JSON.parse(JSON.stringify(report))), []);
  });
  test('§4.1: metadata and the UTC day range', () => {
    assert.equal(report['organization-name'], 'relay.example.net');
    assert.deepEqual(report['date-range'], { 'start-datetime': '2026-11-30T00:00:00Z', 'end-datetime': '2026-11-30T23:59:59Z' });
  });
  test('§4.4: one policy entry per (type, policy-string, mx-host), other domains and days left out', () => {
    assert.deepEqual(report.policies.map((p) => p.policy['policy-type']).sort(), ['no-policy-found', 'sts', 'tlsa']);
    const sts = report.policies.find((p) => p.policy['policy-type'] === 'sts');
    assert.deepEqual(sts?.summary, { 'total-successful-session-count': 3, 'total-failure-session-count': 3 });
    assert.deepEqual(sts?.policy['policy-string'], STS_LINES);
    assert.deepEqual(sts?.policy['mx-host'], ['*.mail.example.com']);
  });
  test('§4.4: failure details are grouped with counts, biggest first', () => {
    const sts = report.policies.find((p) => p.policy['policy-type'] === 'sts');
    assert.deepEqual(sts?.['failure-details'], [
      { 'result-type': 'certificate-host-mismatch', 'sending-mta-ip': '198.51.100.1', 'receiving-mx-hostname': 'mx1.mail.example.com', 'receiving-ip': '192.0.2.10', 'failed-session-count': 2, 'failure-reason-code': 'name mismatch' },
      { 'result-type': 'starttls-not-supported', 'sending-mta-ip': '198.51.100.1', 'receiving-mx-hostname': 'mx2.mail.example.com', 'receiving-ip': '192.0.2.11', 'failed-session-count': 1 },
    ]);
  });
  test('§4.4: no-policy-found has no policy-string or mx-host', () => {
    const none = report.policies.find((p) => p.policy['policy-type'] === 'no-policy-found');
    assert.equal(none && 'policy-string' in none.policy, false);
    assert.equal(none && 'mx-host' in none.policy, false);
  });
  test('the same attempts in another order give the same report', () => {
    assert.deepEqual(buildReport('example.com', [...ATTEMPTS].reverse(), META), report);
  });
  test('§5.3: file name sender!domain!begin!end!id.json.gz', () => {
    assert.equal(reportFileName('relay.example.net', 'example.com', DAY, '001'), 'relay.example.net!example.com!1795996800!1796083199!001.json.gz');
  });
});

describe('validateReport rejects reports that break RFC 8460 §4.4', () => {
  const good = buildReport('example.com', ATTEMPTS, META);
  const mutate = (f: (r: any) => void): unknown => { const r = JSON.parse(JSON.stringify(good)); f(r); return r; };
  const rows: Array<[string, unknown]> = [
    ['not an object', []],
    ['organization-name missing', mutate((r) => { delete r['organization-name']; })],
    ['report-id not a string', mutate((r) => { r['report-id'] = 5; })],
    ['date-range not RFC 3339', mutate((r) => { r['date-range']['start-datetime'] = '30/11/2026'; })],
    ['date-range reversed', mutate((r) => { r['date-range']['end-datetime'] = '2026-11-29T00:00:00Z'; })],
    ['unknown policy-type', mutate((r) => { r.policies[0].policy['policy-type'] = 'dane'; })],
    ['policy-domain missing', mutate((r) => { delete r.policies[0].policy['policy-domain']; })],
    ['policy-string not strings', mutate((r) => { r.policies[0].policy['policy-string'] = [1]; })],
    ['negative summary count', mutate((r) => { r.policies[0].summary['total-successful-session-count'] = -1; })],
    ['unknown result-type', mutate((r) => { r.policies.find((p: any) => p['failure-details'].length)['failure-details'][0]['result-type'] = 'bad-cert'; })],
    ['zero failed-session-count', mutate((r) => { r.policies.find((p: any) => p['failure-details'].length)['failure-details'][0]['failed-session-count'] = 0; })],
    ['details exceed the failure total', mutate((r) => { r.policies.find((p: any) => p['failure-details'].length).summary['total-failure-session-count'] = 1; })],
  ];
  for (const [title, bad] of rows) test(title, () => assert.notDeepEqual(validateReport(bad), []));
});
