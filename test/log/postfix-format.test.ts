/**
 * The Postfix-format log (src/log/postfix-format.ts): each typed event becomes
 * the line Postfix's own program would write, and Debian's pflogsumm reads a
 * whole lab run's log with the same received / delivered / deferred / bounced
 * counts as the relay's own JSON events (issue: logs that operators' existing
 * tools read).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderPostfixLines } from '../../src/log/postfix-format.ts';
import { runLab } from '../../src/lab/lab-runner.ts';
import { summariseText } from '../tools/report/fixture.ts';

const T = '2026-12-01T15:00:00.000Z';
const opts = { hostname: 'relay.example' };
const head = (program: string): string => `${T} relay.example dane-relay/${program}[42]: `;

describe('Postfix-format lines, one per event, as Postfix writes them', () => {
  const rows: Array<[string, Record<string, unknown>, string[]]> = [
    ['smtpd client=, cleanup message-id=, qmgr from= for an accepted message',
      { event: 'queued', qid: 'ABC', client: '127.0.0.1', sender: 'a@src.test', nrcpt: 2, size: 1234, messageId: 'm1@src.test', msg: 'x' },
      [head('smtpd') + 'ABC: client=unknown[127.0.0.1]', head('cleanup') + 'ABC: message-id=<m1@src.test>', head('qmgr') + 'ABC: from=<a@src.test>, size=1234, nrcpt=2 (queue active)']],
    ['smtp status line in pflogsumm field order, no tls= by default',
      { event: 'delivery', qid: 'ABC', rcpt: 'b@dst.test', relay: 'mx.dst.test[192.0.2.1]:25', delay: 0.234, delays: '0.01/0/0.2/0.02', dsn: '2.0.0', status: 'sent', tls: { feature: 'dane', state: 'Verified' }, msg: 'ABC: to=<b@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=0.23, delays=0.01/0/0.2/0.02, tls=dane, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)' },
      [head('smtp') + 'ABC: to=<b@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=0.23, delays=0.01/0/0.2/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)']],
    ['conn_use on a reused connection',
      { event: 'delivery', qid: 'ABD', rcpt: 'c@dst.test', relay: 'mx.dst.test[192.0.2.1]:25', connUse: 3, delay: 12.4, delays: '0/0/0/12', dsn: '4.7.5', status: 'deferred', msg: 'x, status=deferred (Server certificate not verified)' },
      [head('smtp') + 'ABD: to=<c@dst.test>, relay=mx.dst.test[192.0.2.1]:25, conn_use=3, delay=12, delays=0/0/0/12, dsn=4.7.5, status=deferred (Server certificate not verified)']],
    ['the TLS session line: an smtp line carries its outbound connection number where Postfix has the pid',
      { event: 'tls', qid: 'ABC', conn: 42, msg: 'Verified TLS connection established to mx.dst.test[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)' },
      [head('smtp') + 'Verified TLS connection established to mx.dst.test[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)']],
    ['a host not used, with the queue id', { event: 'host-skipped', qid: 'ABC', msg: 'mx1.dst.test[192.0.2.1]:25: Server certificate not verified' },
      [head('smtp') + 'ABC: mx1.dst.test[192.0.2.1]:25: Server certificate not verified']],
    ['expiry: qmgr returned to sender', { event: 'queue-outcome', qid: 'ABE', status: 'expired', sender: 's@src.test', msg: 'x' },
      [head('qmgr') + 'ABE: from=<s@src.test>, status=expired, returned to sender']],
    ['removed by the queue manager', { event: 'removed', qid: 'ABC', msg: 'ABC: removed' }, [head('qmgr') + 'ABC: removed']],
    ['an operator action: postsuper', { event: 'queue-admin', qid: 'ABC', action: 'hold', msg: 'ABC: placed on hold' }, [head('postsuper') + 'ABC: placed on hold']],
    ['removed by the operator: postsuper', { event: 'removed', qid: 'ABC', by: 'operator', msg: 'ABC: removed' }, [head('postsuper') + 'ABC: removed']],
    ['a non-delivery notification', { event: 'bounce', qid: 'ABC', msg: 'ABC: sender non-delivery notification: DEF' }, [head('bounce') + 'ABC: sender non-delivery notification: DEF']],
    ['an smtpd reject', { event: 'reject', msg: 'NOQUEUE: reject: RCPT from [192.0.2.7]: 554 5.7.1 <x@y.test>: Relay access denied' },
      [head('smtpd') + 'NOQUEUE: reject: RCPT from [192.0.2.7]: 554 5.7.1 <x@y.test>: Relay access denied']],
    ['anything else goes to master, warnings prefixed as Postfix does', { event: 'reload', level: 40, msg: 'listen changes need a restart' }, [head('master') + 'warning: listen changes need a restart']],
    ['a line with no message renders as nothing', { event: 'whatever' }, []],
  ];
  for (const [name, event, expected] of rows) {
    test(name, () => assert.deepEqual(renderPostfixLines({ time: T, pid: 42, level: 30, ...event }, opts), expected));
  }
  test('tls= only with tls_feature_status (Postfix smtp_log_tls_feature_status)', () => {
    const e = { time: T, pid: 42, event: 'delivery', qid: 'A', rcpt: 'b@d.test', relay: 'mx[192.0.2.1]:25', delay: 1, delays: '0/0/0.5/0.5', dsn: '2.0.0', status: 'sent', tls: { feature: 'dane' }, msg: 'x, status=sent (250 ok)' };
    assert.match(renderPostfixLines(e, { ...opts, tlsFeatureStatus: true })[0] ?? '', /delays=0\/0\/0\.5\/0\.5, tls=dane, dsn=2\.0\.0, status=sent \(250 ok\)$/);
  });
  test('hostile field content never breaks a line in two', () => {
    const e = { time: T, pid: 1, event: 'delivery', qid: 'A', rcpt: 'b@d.test', status: 'bounced', msg: 'x, status=bounced (550 no\r\nfake line)' };
    assert.equal(renderPostfixLines(e, opts).join('\n').split('\n').length, 1);
  });
});

const pflogsumm = '/usr/sbin/pflogsumm';
test('pflogsumm on the Postfix-format log of a whole lab run counts what the relay counted', { skip: !existsSync(pflogsumm) && 'pflogsumm not installed (scripts/system-deps.sh installs it)' }, async () => {
  const json: string[] = [];
  await runLab({ timeoutMs: 60_000, onLogLine: (l) => json.push(l) });
  const events = json.map((l) => JSON.parse(l) as Record<string, unknown>);
  // Human log text carries no internal rule ids (the code and docs/rules.md do).
  for (const e of events) for (const k of ['msg', 'reason', 'diagnostic']) assert.doesNotMatch(String(e[k] ?? ''), /\bC\d{1,2}\b/, `${k}: ${String(e[k])}`);
  const own = (pred: (e: Record<string, unknown>) => boolean): number => events.filter(pred).length;
  const expected = {
    received: own((e) => e['event'] === 'queued'),
    delivered: own((e) => e['event'] === 'delivery' && e['status'] === 'sent'),
    deferred: own((e) => e['event'] === 'delivery' && e['status'] === 'deferred'),
    bounced: own((e) => e['event'] === 'delivery' && e['status'] === 'bounced'),
  };
  assert.ok(expected.received >= 40 && expected.delivered > 10 && expected.deferred > 10 && expected.bounced > 0, JSON.stringify(expected));
  const dir = mkdtempSync(join(tmpdir(), 'dr-maillog-'));
  try {
    const maillog = join(dir, 'maillog');
    writeFileSync(maillog, events.flatMap((e) => renderPostfixLines(e, opts)).join('\n') + '\n');
    const out = execFileSync(pflogsumm, ['--syslog-name=dane-relay', maillog], { encoding: 'utf8' });
    const count = (label: string): number => Number(new RegExp(`^\\s*(\\d+)\\s+${label}\\b`, 'm').exec(out)?.[1] ?? -1);
    assert.deepEqual({ received: count('received'), delivered: count('delivered'), deferred: count('deferred'), bounced: count('bounced') }, expected, out.slice(0, 600));
    // and `dane-relay report` reads the Postfix-format log with the same counts as the JSON log
    const fromJson = summariseText(json.join('\n'));
    const fromMaillog = summariseText(events.flatMap((e) => renderPostfixLines(e, opts)).join('\n'));
    assert.deepEqual(fromMaillog.recipients, fromJson.recipients);
    assert.deepEqual(fromMaillog.tls.deliveries, fromJson.tls.deliveries, 'TLS lines joined to their deliveries by connection, as by smtp process in Postfix');
    assert.equal(fromMaillog.messages.accepted, fromJson.messages.accepted);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('journald priorities on stdout under systemd', () => {
  test('JOURNAL_STREAM must name the stdout stream itself (dev:inode)', async () => {
    const { stdoutIsJournal } = await import('../../src/log/logger.ts');
    const st = () => ({ dev: 64769, ino: 123 });
    assert.equal(stdoutIsJournal({ JOURNAL_STREAM: '64769:123' }, st), true);
    assert.equal(stdoutIsJournal({ JOURNAL_STREAM: '64769:124' }, st), false, 'stdout redirected elsewhere');
    assert.equal(stdoutIsJournal({}, st), false);
  });
  test('each line gets its sd-daemon priority: JSON by pino level, Postfix lines by their warning/error marks', async () => {
    const { journalStream } = await import('../../src/log/logger.ts');
    const out: string[] = [];
    const j = journalStream({ write: (l: string) => void out.push(l) });
    j.write('{"level":30,"msg":"a"}\n');
    j.write('{"level":40,"msg":"b"}\n');
    j.write('{"level":50,"msg":"c"}\n');
    j.write('{"level":60,"msg":"d"}\n');
    j.write(`${T} relay dane-relay/master[1]: warning: listen changes need a restart\n${T} relay dane-relay/qmgr[1]: ABC: removed\n`);
    assert.deepEqual(out.join('').split('\n').filter(Boolean).map((l) => l.slice(0, 3)), ['<6>', '<4>', '<3>', '<2>', '<4>', '<6>']);
  });
});
