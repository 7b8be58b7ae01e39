import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { startRelay } from '../../src/relay.ts';
import { SpoolLockedError } from '../../src/queue/spool.ts';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { scriptedDeliverer, SENT } from '../queue/helpers.ts';
import { freePort, startChild } from './child.ts';

async function setup(extra = ''): Promise<{ dir: string; config: string; delivered: string; spool: string; port: number; write: (extraYaml: string) => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-serve-'));
  const port = await freePort();
  const config = join(dir, 'relay.yaml');
  const spool = join(dir, 'spool');
  const write = (extraYaml: string): Promise<void> =>
    writeFile(config, `myhostname: relay.test\nlisten: ["127.0.0.1:${port}"]\nspool: ${spool}\nlog: { level: info, file: ${join(dir, 'relay.log')} }\n${extraYaml}`);
  await write(extra);
  return { dir, config, delivered: join(dir, 'delivered'), spool, port, write };
}

async function rcptReply(port: number, localAddress: string): Promise<string> {
  const c = await RawSmtp.connect(port, { localAddress });
  try {
    await c.greeting;
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<a@src.test>');
    return await c.cmd('RCPT TO:<b@dst.test>');
  } finally {
    c.close();
  }
}

describe('serve (child process)', () => {
  test('SIGTERM: stops accepting and exits 0 with unfinished mail still queued on disk', async () => {
    const s = await setup();
    const child = await startChild({ config: s.config, delivered: s.delivered, mode: 'defer' });
    try {
      const c = await RawSmtp.connect(child.port);
      await c.greeting;
      assert.match(await c.send('a@src.test', ['b@dst.test'], simpleMessage()), /^250 /);
      c.close();
      for (let i = 0; i < 100 && (await readdir(join(s.spool, 'deferred'))).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      child.proc.kill('SIGTERM');
      const exit = await Promise.race([child.exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no exit after SIGTERM')), 10_000))]);
      assert.equal(exit.code, 0);
      assert.equal((await readdir(join(s.spool, 'deferred'))).length, 1, 'the deferred message is still on disk');
      await assert.rejects(stat(join(s.spool, 'pid')), 'pid file removed');
      const log = await readFile(join(s.dir, 'relay.log'), 'utf8');
      assert.match(log, /"msg":"[0-9A-F]+: from=<a@src\.test>, size=\d+, nrcpt=1 \(queue active\)"/);
      assert.match(log, /"qid":"[0-9A-F]+","client":"127\.0\.0\.1"/);
      const [deferredId] = await readdir(join(s.spool, 'deferred'));
      const control = await readFile(join(s.spool, 'deferred', deferredId ?? ''), 'utf8');
      assert.match(control, /test: deferring everything/, 'the deferral reason is recorded with the recipient');
    } finally {
      child.proc.kill('SIGKILL');
      await rm(s.dir, { recursive: true, force: true });
    }
  });

  test('SIGHUP: a bad new config is rejected and logged, the old one kept; a good one is applied', async () => {
    const s = await setup();
    const child = await startChild({ config: s.config, delivered: s.delivered });
    try {
      assert.match(await rcptReply(child.port, '127.0.0.2'), /^250 /);
      await s.write('mynetworks: ["127.0.0.1/33"]\n');
      child.proc.kill('SIGHUP');
      const logFile = join(s.dir, 'relay.log');
      for (let i = 0; i < 100 && !(await readFile(logFile, 'utf8').catch(() => '')).includes('reload rejected'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(await readFile(logFile, 'utf8'), /reload rejected, keeping the running configuration: config error: mynetworks\.0: expected a CIDR/);
      assert.match(await rcptReply(child.port, '127.0.0.2'), /^250 /, 'old config still in force');
      await s.write('mynetworks: ["127.0.0.1/32"]\n');
      child.proc.kill('SIGHUP');
      let reply = '';
      for (let i = 0; i < 100; i++) {
        reply = await rcptReply(child.port, '127.0.0.2');
        if (reply.startsWith('554')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(reply, '554 5.7.1 Relay access denied');
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
      await rm(s.dir, { recursive: true, force: true });
    }
  });

  test('a second relay on the spool of a running one is refused (pid lock)', async () => {
    const s = await setup();
    const child = await startChild({ config: s.config, delivered: s.delivered });
    try {
      const config = parseConfig({ listen: ['127.0.0.1:0'], spool: s.spool, log: { level: 'silent' } });
      await assert.rejects(startRelay(config, { deliverer: scriptedDeliverer(() => SENT), logger: silentLogger() }), SpoolLockedError);
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
      await rm(s.dir, { recursive: true, force: true });
    }
  });

  test('dane-relay serve with a bad config prints one message naming the key, exits 78, starts nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dane-relay-serve-'));
    try {
      const config = join(dir, 'bad.yaml');
      await writeFile(config, `spool: ${join(dir, 'spool')}\ninbound:\n  max_message_size: "10M"\n`);
      const proc = spawn(process.execPath, [resolve('bin/dane-relay.js'), 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
      assert.equal(code, 78);
      assert.equal(stderr.trim(), 'dane-relay: config error: inbound.max_message_size: expected number, received string');
      await assert.rejects(stat(join(dir, 'spool')), 'no spool was created');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
