/**
 * Log rotation (issue 14): after `mv relay.log relay.log.1` and SIGHUP, the
 * relay reopens `log.file` by name and its next lines land in the new file,
 * as config/logrotate/dane-relay expects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { freePort, startChild } from '../relay/child.ts';

async function waitFor(file: string, text: string): Promise<string> {
  // Bounded: up to 100 x 50 ms for an asynchronous log write to reach the file.
  let content = '';
  for (let i = 0; i < 100; i++) {
    content = await readFile(file, 'utf8').catch(() => '');
    if (content.includes(text)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return content;
}

test('rename the log files, SIGHUP: the relay reopens log.file and log.maillog and new lines land in the new files', async () => {
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
    await rename(log, `${log}.1`);
    await rename(maillog, `${maillog}.1`);
    child.proc.kill('SIGHUP');
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
});
