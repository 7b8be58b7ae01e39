/** postReport against the lab https collector on loopback (RFC 8460 §5.2, §5.4), report validated on arrival. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { issueLeaf } from '../../src/lab/certs.ts';
import { createLabPki, type LabPki } from '../../src/lab/lab-pki.ts';
import { startStsServer, type StsServer } from '../../src/lab/sts-server.ts';
import { buildReport, dayRange } from '../../src/tlsrpt/report.ts';
import { postReport } from '../../src/tlsrpt/send-https.ts';
import { validateReport } from '../../src/tlsrpt/validate.ts';
import { FakeDns } from '../sts/helpers.ts';

let pki: LabPki;
let server: StsServer;
const range = dayRange('2026-11-30');
const REPORT = buildReport('example.com', [{
  at: range.start.getTime() + 1000, policyDomain: 'example.com', policyType: 'sts', policyStrings: ['version: STSv1', 'mode: enforce', 'mx: mx.example.com', 'max_age: 600'],
  mxHost: ['mx.example.com'], receivingMxHostname: 'mx.example.com', result: { kind: 'failure', resultType: 'certificate-host-mismatch' },
}], { organizationName: 'relay.example.net', contactInfo: 'postmaster@relay.example.net', reportId: 'r1', range });

before(async () => {
  pki = await createLabPki();
  server = await startStsServer({ host: '127.0.0.1' });
  const leaf = await issueLeaf(pki.publicIntermediate, { dnsNames: ['reports.example.com'] });
  server.setCollector('reports.example.com', [leaf, pki.publicIntermediate]);
});
after(async () => { await server.close(); });

const dns = () => new FakeDns().a('reports.example.com', '127.0.0.1').a('nowhere.example.com', '127.0.0.1');

test('RFC 8460 §5.4: the report is POSTed gzip-compressed as application/tlsrpt+gzip and arrives as valid §4.4 JSON', async () => {
  const r = await postReport(`https://reports.example.com:${server.port}/v1/tlsrpt`, REPORT, { dns: dns(), ca: [pki.publicRoot.certPem], timeoutMs: 2000 });
  assert.equal(r.kind, 'sent', JSON.stringify(r));
  const got = server.reports.at(-1);
  assert.equal(got?.contentType, 'application/tlsrpt+gzip');
  assert.equal(got?.path, '/v1/tlsrpt');
  assert.deepEqual(got?.json, REPORT);
  assert.deepEqual(validateReport(got?.json), []);
});

test('RFC 8460 §5.4: a collector certificate the relay does not trust is a failure (nothing sent)', async () => {
  const before = server.reports.length;
  const r = await postReport(`https://reports.example.com:${server.port}/v1/tlsrpt`, REPORT, { dns: dns(), ca: [pki.daneRoot.certPem], timeoutMs: 2000 });
  assert.equal(r.kind, 'failed');
  assert.equal(server.reports.length, before);
});

test('RFC 8460 §5.4: a non-2xx answer is a failure', async () => {
  // nowhere.example.com is not a collector: the lab server answers 404.
  const leaf = await issueLeaf(pki.publicIntermediate, { dnsNames: ['mta-sts.nowhere.example.com'] });
  server.setSite('nowhere.example.com', { behaviour: 'serve', policy: '', chain: [leaf] });
  const r = await postReport(`https://nowhere.example.com:${server.port}/x`, REPORT, { dns: dns(), ca: [pki.publicRoot.certPem], timeoutMs: 2000 });
  assert.equal(r.kind, 'failed');
});

test('a URL that is not https is refused without a connection', async () => {
  assert.deepEqual(await postReport('http://reports.example.com/x', REPORT, { dns: dns(), timeoutMs: 100 }), { kind: 'failed', reason: 'not an https: URL: http://reports.example.com/x' });
});
