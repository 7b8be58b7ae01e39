/** The mailto: report message (RFC 8460 §5.3): headers, MIME shape, gzip attachment holding a valid §4.4 report, DKIM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { composeReportMail } from '../../src/tlsrpt/mail.ts';
import { buildReport, dayRange } from '../../src/tlsrpt/report.ts';
import { validateReport } from '../../src/tlsrpt/validate.ts';

const range = dayRange('2026-11-30');
const report = buildReport('example.com', [{
  at: range.start.getTime() + 5, policyDomain: 'example.com', policyType: 'tlsa', policyStrings: ['3 1 1 abcd'], mxHost: ['mx.example.com'],
  receivingMxHostname: 'mx.example.com', result: { kind: 'success' },
}], { organizationName: 'relay.example.net', contactInfo: 'postmaster@relay.example.net', reportId: '2026-11-30_example.com@relay.example.net', range });

function header(msg: string, name: string): string | undefined {
  const head = msg.split('\r\n\r\n')[0] ?? '';
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(unfolded)?.[1];
}

test('RFC 8460 §5.3: multipart/report report-type=tlsrpt with TLS-Report-Domain, TLS-Report-Submitter and the Subject form', async () => {
  const { message, from, fileName } = await composeReportMail({ report, policyDomain: 'example.com', range, to: 'tls@example.com', now: Date.parse('2026-12-01T01:00:00Z') });
  const text = message.toString('utf8').replace(/\r\n[ \t]+/g, ' ');
  assert.equal(from, 'postmaster@relay.example.net');
  assert.match(header(text, 'Content-Type') ?? '', /^multipart\/report; report-type="?tlsrpt"?; boundary=/);
  assert.equal(header(text, 'TLS-Report-Domain'), 'example.com');
  assert.equal(header(text, 'TLS-Report-Submitter'), 'relay.example.net');
  assert.equal(header(text, 'Subject'), 'Report Domain: example.com Submitter: relay.example.net Report-ID: <2026-11-30_example.com@relay.example.net>');
  assert.match(fileName, /^relay\.example\.net!example\.com!1795996800!1796083199![0-9a-f]{12}\.json\.gz$/);
  assert.match(text, /Content-Type: application\/tlsrpt\+gzip; name="?relay\.example\.net!example\.com!/);
});

test('RFC 8460 §5.2, §4.4: the attachment is the gzip-compressed report and validates', async () => {
  const { message } = await composeReportMail({ report, policyDomain: 'example.com', range, to: 'tls@example.com', now: 0 });
  const text = message.toString('utf8');
  const part = text.split(/\r\n--/).find((p) => /Content-Type: application\/tlsrpt\+gzip/.test(p)) ?? '';
  const b64 = (part.split('\r\n\r\n')[1] ?? '').replace(/\s+/g, '');
  const json: unknown = JSON.parse(gunzipSync(Buffer.from(b64, 'base64')).toString('utf8'));
  assert.deepEqual(json, report);
  assert.deepEqual(validateReport(json), []);
});

test('RFC 8460 §5.3: with a DKIM key configured the report carries a DKIM-Signature for that domain and selector', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const { message } = await composeReportMail({ report, policyDomain: 'example.com', range, to: 'tls@example.com', now: 0, dkim: { domainName: 'relay.example.net', keySelector: 'tlsrpt', privateKey: pem } });
  const sig = header(message.toString('utf8'), 'DKIM-Signature') ?? '';
  assert.match(sig, /d=relay\.example\.net/);
  assert.match(sig, /s=tlsrpt/);
  assert.match(sig, /h=[^;]*TLS-Report-Domain/i);
});

test('a contact-info that is not an address is a clear configuration error', async () => {
  const bad = { ...report, 'contact-info': 'call us' };
  await assert.rejects(composeReportMail({ report: bad, policyDomain: 'example.com', range, to: 'tls@example.com', now: 0 }), /not an e-mail address/);
});
