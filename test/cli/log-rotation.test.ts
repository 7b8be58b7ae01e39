/**
 * Log rotation (issue 14): after `mv relay.log relay.log.1` and SIGHUP, the
 * relay reopens `log.file` and `log.maillog` by name and its next lines land
 * in the new files; and the same done by Debian's logrotate itself with the
 * shipped config/logrotate/dane-relay (paths moved into a temp dir, its
 * `systemctl reload` replaced by the SIGHUP that reload sends).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { freePort, startChild, type RelayChild } from '../relay/child.ts';

async function waitFor(file: string, text: string): Promise<string> {
  // Bounded: up to 100 x 50 ms for a log line to reach the file.
  let content = '';
  for (let i = 0; i < 100; i++) {
    content = await readFile(file, 'utf8').catch(() => '');
    if (content.includes(text)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return content;
}

interface Rotating { dir: string; log: string; maillog: string; child: RelayChild }

/** A relay child logging to `relay.log` and `maillog` in a temp dir; `rotate` renames both files and has the relay reopen them. */
async function rotateAndSend(rotate: (r: Rotating) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-rot-'));
  const port = await freePort();
  const config = join(dir, 'relay.yaml');
  const log = join(dir, 'relay.log');
  const maillog = join(dir, 'maillog');
  await writeFile(config, `myhostname: relay.test\nlisten: ["127.0.0.1:${port}"]\nspool: ${join(dir, 'spool')}\nlog: { level: info, file: ${log}, maillog: ${maillog} }\n`);
  const child = await startChild({ config, delivered: join(dir, 'delivered') });
  try {
    assert.match(await waitFor(log, 'daemon started'), /daemon started/);
    assert.match(await waitFor(maillog, 'daemon started'), /dane-relay\/master\[\d+\]: daemon started/);
    await rotate({ dir, log, maillog, child });
    const fresh = await waitFor(log, 'configuration re-read');
    assert.match(fresh, /reload -- configuration re-read/, 'the reload line is in the new relay.log');
    const c = await RawSmtp.connect(child.port);
    await c.greeting;
    assert.match(await c.send('a@src.test', ['b@dst.test'], simpleMessage()), /^250 /);
    c.close();
    assert.match(await waitFor(log, 'from=<a@src.test>'), /from=<a@src\.test>/, 'a later line (the accepted message) lands in the new file too');
    assert.match(await waitFor(maillog, 'from=<a@src.test>'), /dane-relay\/qmgr\[\d+\]: \w+: from=<a@src\.test>, size=\d+, nrcpt=1 \(queue active\)/, 'the Postfix-format maillog is reopened too');
    assert.doesNotMatch(await readFile(`${maillog}.1`, 'utf8'), /from=<a@src\.test>/);
    const old = await readFile(`${log}.1`, 'utf8');
    assert.match(old, /daemon started/);
    assert.doesNotMatch(old, /configuration re-read/, 'nothing after the signal went to the renamed file');
  } finally {
    child.proc.kill('SIGKILL');
    if (child.proc.exitCode === null) await once(child.proc, 'exit');
    await rm(dir, { recursive: true, force: true });
  }
}

test('rename the log files, SIGHUP: the relay reopens log.file and log.maillog and new lines land in the new files', async () => {
  await rotateAndSend(async ({ log, maillog, child }) => {
    await rename(log, `${log}.1`);
    await rename(maillog, `${maillog}.1`);
    child.proc.kill('SIGHUP');
  });
});

const LOGROTATE = '/usr/sbin/logrotate';
const skip = !existsSync(LOGROTATE) ? 'logrotate not installed (scripts/system-deps.sh installs it)' : process.getuid?.() !== 0 ? 'needs root (logrotate chowns the new files)' : false;

test('logrotate -f with the shipped config/logrotate/dane-relay rotates relay.log and maillog, and the relay writes on in the new files', { skip }, async () => {
  await rotateAndSend(async ({ dir, child }) => {
    const shipped = await readFile('config/logrotate/dane-relay', 'utf8');
    assert.match(shipped, /^\/var\/log\/dane-relay\/relay\.log \/var\/log\/dane-relay\/maillog \{$/m, 'both files are rotated');
    const conf = shipped
      .replaceAll('/var/log/dane-relay/', `${dir}/`)
      .replace(/^(\s+)systemctl reload dane-relay\b.*$/m, `$1kill -HUP ${child.proc.pid}`)
      .replace(/create 0640 dane-relay dane-relay/, 'create 0640 root root');
    assert.match(conf, /^\s+kill -HUP \d+$/m, 'the postrotate reload became the signal it sends');
    const confFile = join(dir, 'logrotate.conf');
    await writeFile(confFile, conf, { mode: 0o644 });
    execFileSync(LOGROTATE, ['-f', '-s', join(dir, 'logrotate.state'), confFile]);
  });
});
