/**
 * `dane-relay report` over a Postfix maillog (src/tools/report/postfix-maillog.ts):
 * the transport security of any Postfix's past deliveries, per domain, with the
 * TLS state joined from the `smtp[PID]` TLS line to the status lines of the
 * same session (Postfix logs them apart).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { PostfixMaillogReader } from '../../../src/tools/report/postfix-maillog.ts';
import { runReport } from '../../../src/tools/report/run.ts';
import { summariseText } from './fixture.ts';

const MAILLOG = [
  'Nov 30 10:00:00 mail postfix/smtpd[100]: 1A: client=client.example[192.0.2.10]',
  'Nov 30 10:00:00 mail postfix/cleanup[101]: 1A: message-id=<a@client.example>',
  'Nov 30 10:00:00 mail postfix/qmgr[102]: 1A: from=<s@client.example>, size=1000, nrcpt=2 (queue active)',
  'Nov 30 10:00:01 mail postfix/smtp[200]: Verified TLS connection established to mx.good.test[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)',
  'Nov 30 10:00:01 mail postfix/smtp[200]: 1A: to=<a@good.test>, relay=mx.good.test[192.0.2.1]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
  'Nov 30 10:00:01 mail postfix/smtp[200]: 1A: to=<b@good.test>, relay=mx.good.test[192.0.2.1]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
  // the next message over the cached connection of the same process
  '2026-11-30T10:01:00.000000+00:00 mail postfix/qmgr[102]: 1B: from=<s@client.example>, size=500, nrcpt=1 (queue active)',
  '2026-11-30T10:01:00.100000+00:00 mail postfix/smtp[200]: 1B: to=<c@good.test>, relay=mx.good.test[192.0.2.1]:25, conn_use=2, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
  // a plaintext delivery by the same process: no TLS line before its first use
  '2026-11-30T10:02:00Z mail postfix/qmgr[102]: 1C: from=<s@client.example>, size=700, nrcpt=2 (queue active)',
  '2026-11-30T10:02:00Z mail postfix/smtp[200]: 1C: to=<d@plain.test>, relay=mx.plain.test[192.0.2.2]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 ok)',
  // another process, a half-dane Trusted session, tls= feature status (Postfix 3.10+)
  '2026-11-30T10:02:01Z mail postfix-out/smtp[300]: Trusted TLS connection established to mx.half.test[192.0.2.3]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)',
  '2026-11-30T10:02:01Z mail postfix-out/smtp[300]: 1C: to=<e@half.test>, relay=mx.half.test[192.0.2.3]:25, delay=0.3, delays=0/0/0.2/0.1, tls=dane:halfdane, dsn=2.0.0, status=sent (250 ok)',
  // DANE failure: deferred after an Untrusted session; the same message deferred again later (qmgr logs from= again)
  '2026-11-30T10:03:00Z mail postfix/qmgr[102]: 1D: from=<s@client.example>, size=300, nrcpt=1 (queue active)',
  '2026-11-30T10:03:00Z mail postfix/smtp[400]: Untrusted TLS connection established to mx.bad.test[192.0.2.4]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)',
  '2026-11-30T10:03:00Z mail postfix/smtp[400]: 1D: to=<f@bad.test>, relay=mx.bad.test[192.0.2.4]:25, delay=0.3, delays=0/0/0.3/0, dsn=4.7.5, status=deferred (Server certificate not verified)',
  '2026-11-30T11:03:00Z mail postfix/qmgr[102]: 1D: from=<s@client.example>, size=300, nrcpt=1 (queue active)',
  '2026-11-30T11:03:00Z mail postfix/smtp[401]: 1D: to=<f@bad.test>, relay=none, delay=3600, delays=3600/0/0/0, dsn=4.7.5, status=deferred (TLSA lookup error for mx.bad.test:25)',
  '2026-11-30T11:04:00Z mail postfix/smtp[402]: 1E: to=<g@gone.test>, relay=none, delay=1, delays=1/0/0/0, dsn=5.1.2, status=bounced (Host or domain name not found. Name service error for name=gone.test type=MX: Host not found)',
  '2026-11-30T11:05:00Z mail postfix/qmgr[102]: 1F: from=<s@client.example>, status=expired, returned to sender',
  '2026-11-30T11:05:00Z mail postfix/anvil[9]: statistics: max connection rate 1/60s',
  'garbage',
];

test('Postfix maillog: deliveries joined to their TLS sessions per smtp process, messages counted once', () => {
  const d = summariseText(MAILLOG.join('\n'));
  assert.equal(d.messages.accepted, 4, 'qmgr from= at every retry counts the message once');
  assert.equal(d.messages.bytes, 2500);
  assert.deepEqual(d.recipients, { sent: 5, deferred: 2, bounced: 1, expired: 1 });
  assert.deepEqual(d.tls.deliveries, { Verified: 3, Trusted: 1, Untrusted: 0, Anonymous: 0, none: 1 });
  assert.deepEqual(d.tls.sessions, { Verified: 1, Trusted: 1, Untrusted: 1, Anonymous: 0, none: 0 });
  const row = (domain: string) => d.domains.top.find((r) => r.domain === domain);
  assert.equal(row('good.test')?.tls.Verified, 3);
  assert.equal(row('plain.test')?.tls.none, 1);
  assert.equal(row('half.test')?.tls.Trusted, 1);
  assert.deepEqual(row('bad.test')?.status, { sent: 0, deferred: 2, bounced: 0, expired: 0 });
  const causes = Object.fromEntries(d.refusals.map((r) => [r.cause, r.deferred + r.bounced]));
  assert.equal(causes['tlsa_mismatch'], 1);
  assert.equal(causes['tlsa_lookup_failure'], 1);
  assert.equal(causes['no_such_domain'], 1);
  assert.equal(d.skipped, 5, 'client=, message-id=, anvil and garbage lines are skipped');
  assert.equal(d.range.first, '2026-11-30T10:00:00.000Z');
});

test('traditional timestamps: a month after the current one belongs to last year', () => {
  const r = new PostfixMaillogReader(() => Date.parse('2026-01-05T00:00:00Z'));
  const [ev] = r.read('Dec 31 23:59:59 mail postfix/qmgr[1]: 9Z: from=<>, size=1, nrcpt=1 (queue active)');
  assert.equal(ev?.time, Date.parse('2025-12-31T23:59:59Z'));
});

test('the CLI reads a rotated .gz maillog, and exits 1 when not one line was recognised', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dr-pfrep-'));
  try {
    const gz = join(dir, 'mail.log.2.gz');
    writeFileSync(gz, gzipSync(MAILLOG.join('\n') + '\n'));
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), stdin: new PassThrough(), now: Date.now };
    assert.equal(await runReport({ sources: [gz], json: true }, io), 0, err.join(''));
    assert.equal((JSON.parse(out.join('')) as { recipients: { sent: number } }).recipients.sent, 5);
    const junk = join(dir, 'junk.log');
    writeFileSync(junk, 'hello\nworld\n');
    assert.equal(await runReport({ sources: [junk] }, io), 1);
    assert.match(err.join(''), /none of the 2 lines/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
