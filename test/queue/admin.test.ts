import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerQueue } from '../../src/cli/queue.ts';
import { Scheduler } from '../../src/queue/scheduler.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { DEFER, scriptedDeliverer, SENT, settings, storeMessage, tempSpool } from './helpers.ts';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const program = new Command('dane-relay').exitOverride();
  registerQueue(program, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), setExitCode: (c) => (code = c) });
  await program.parseAsync(['node', 'dane-relay', ...argv]);
  return { code, stdout, stderr };
}

describe('dane-relay queue', () => {
  test('list shows messages mailq-style with deferral reasons; show prints envelope and content', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    const scheduler = new Scheduler({ spool, deliverer: scriptedDeliverer(() => DEFER), logger: silentLogger(), settings: settings() });
    try {
      const deferred = await storeMessage(spool, 'alice@src.test', ['bob@dst.test']);
      await scheduler.start();
      await scheduler.idle();
      await scheduler.stop(1000);
      const fresh = await storeMessage(spool, '', ['carol@dst.test']);
      const list = await cli(['queue', 'list', '--spool', dir]);
      assert.equal(list.code, 0);
      assert.match(list.stdout, /^-Queue ID- +--Size-- ----Arrival Time---- -Sender\/Recipient-------$/m);
      assert.match(list.stdout, new RegExp(`^${deferred} +\\d+ \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d  alice@src\\.test\\n +\\(connect to mx\\.test\\[127\\.0\\.0\\.1\\]:25: Connection refused\\)\\n +bob@dst\\.test$`, 'm'));
      assert.match(list.stdout, new RegExp(`^${fresh} .*MAILER-DAEMON\\n +carol@dst\\.test$`, 'm'));
      assert.match(list.stdout, /^-- \d+ Kbytes in 2 Requests\.$/m);
      const json = JSON.parse((await cli(['queue', 'list', '--spool', dir, '--json'])).stdout) as Array<{ id: string; dir: string }>;
      assert.deepEqual(json.map((e) => [e.id, e.dir]), [[deferred, 'deferred'], [fresh, 'incoming']]);
      const show = await cli(['queue', 'show', deferred, '--spool', dir]);
      assert.equal(show.code, 0);
      assert.match(show.stdout, new RegExp(`ENVELOPE RECORDS deferred/${deferred}`));
      assert.match(show.stdout, /"status": "deferred"/);
      assert.match(show.stdout, /MESSAGE CONTENTS \*\*\*\nFrom: alice@src\.test/);
    } finally {
      await scheduler.stop(100);
      await cleanup();
    }
  });

  test('delete removes the queue file; unknown ids and bad ids exit 1', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const id = await storeMessage(spool, 'alice@src.test', ['bob@dst.test']);
      const del = await cli(['queue', 'delete', id, '--spool', dir]);
      assert.deepEqual([del.code, del.stdout], [0, `${id}: removed\n`]);
      await assert.rejects(stat(spool.path('incoming', id)));
      assert.equal((await cli(['queue', 'delete', id, '--spool', dir])).code, 1);
      assert.equal((await cli(['queue', 'show', '../../etc/passwd', '--spool', dir])).code, 1);
      assert.equal((await cli(['queue', 'list', '--spool', dir])).stdout, 'Mail queue is empty\n');
    } finally {
      await cleanup();
    }
  });

  test('flush drops the trigger file a running relay polls; a missing spool is an error', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const r = await cli(['queue', 'flush', '--spool', dir]);
      assert.equal(r.code, 0);
      assert.ok((await stat(spool.flushTrigger)).isFile());
      const missing = await cli(['queue', 'list', '--spool', `${dir}/nope`]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no spool directory at/);
    } finally {
      await cleanup();
    }
  });

  test('show prints times as ISO 8601, not epoch milliseconds', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const id = await storeMessage(spool, 'alice@src.test', ['bob@dst.test'], { now: Date.UTC(2026, 0, 2, 3, 4, 5) });
      const show = await cli(['queue', 'show', id, '--spool', dir]);
      assert.match(show.stdout, /"receivedAt": "2026-01-02T03:04:05\.000Z"/);
      assert.doesNotMatch(show.stdout, /"\w+At": \d/);
    } finally {
      await cleanup();
    }
  });

  test('hold/release on a running scheduler: a held message is never delivered, a released one is; both logged as postsuper does', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    const logDir = await mkdtemp(join(tmpdir(), 'dane-relay-admin-log-'));
    const logFile = join(logDir, 'relay.log');
    const config = join(logDir, 'relay.yaml');
    await writeFile(config, `log: { file: ${logFile} }\n`);
    let mode: 'defer' | 'send' = 'defer';
    const deliverer = scriptedDeliverer(() => (mode === 'defer' ? DEFER : SENT));
    const scheduler = new Scheduler({ spool, deliverer, logger: silentLogger(), settings: settings() });
    try {
      const id = await storeMessage(spool, 'alice@src.test', ['bob@dst.test']);
      await scheduler.start();
      await scheduler.idle();
      assert.equal(deliverer.calls.length, 1, 'first attempt deferred');
      const hold = await cli(['queue', 'hold', id, '--spool', dir, '--config', config]);
      assert.deepEqual([hold.code, hold.stdout], [0, `${id}: placed on hold\n`]);
      assert.ok((await stat(spool.path('hold', id))).isFile());
      mode = 'send';
      scheduler.flush(); // what the flush trigger does: rescan, every waiting message due now
      await scheduler.idle();
      assert.equal(deliverer.calls.length, 1, 'the held message was not attempted');
      assert.ok((await stat(spool.path('hold', id))).isFile(), 'still on hold');
      assert.equal((await cli(['queue', 'release', id, '--spool', dir, '--config', config])).stdout, `${id}: released from hold\n`);
      assert.ok((await stat(spool.flushTrigger)).isFile(), 'release drops the flush trigger for the running relay');
      scheduler.flush();
      await scheduler.idle();
      assert.equal(deliverer.calls.length, 2, 'the released message was delivered');
      await assert.rejects(stat(spool.path('deferred', id)), 'delivered and removed');
      const log = await readFile(logFile, 'utf8');
      assert.match(log, new RegExp(`"name":"dane-relay/postsuper".*"msg":"${id}: placed on hold"`));
      assert.match(log, new RegExp(`"msg":"${id}: released from hold"`));
    } finally {
      await scheduler.stop(100);
      await cleanup();
      await rm(logDir, { recursive: true, force: true });
    }
  });

  test('requeue and delete take several ids, are logged; hold refuses unknown ids, release refuses a message not on hold', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    const logDir = await mkdtemp(join(tmpdir(), 'dane-relay-admin-log-'));
    const logFile = join(logDir, 'relay.log');
    const config = join(logDir, 'relay.yaml');
    await writeFile(config, `log: { file: ${logFile} }\n`);
    try {
      const a = await storeMessage(spool, 'alice@src.test', ['bob@dst.test']);
      const b = await storeMessage(spool, 'alice@src.test', ['carol@dst.test']);
      assert.equal((await cli(['queue', 'hold', a, b, '--spool', dir, '--config', config])).code, 0);
      const notHeld = await cli(['queue', 'release', 'C0FFEE', '--spool', dir, '--config', config]);
      assert.equal(notHeld.code, 1);
      const rq = await cli(['queue', 'requeue', a, '--spool', dir, '--config', config]);
      assert.deepEqual([rq.code, rq.stdout], [0, `${a}: requeued\n`]);
      assert.ok((await stat(spool.path('incoming', a))).isFile(), 'requeued from hold to incoming');
      const rel = await cli(['queue', 'release', a, '--spool', dir, '--config', config]);
      assert.deepEqual([rel.code, rel.stderr], [1, `dane-relay: queue: ${a}: not on hold (in incoming/)\n`]);
      const del = await cli(['queue', 'delete', a, b, '--spool', dir, '--config', config]);
      assert.deepEqual([del.code, del.stdout], [0, `${a}: removed\n${b}: removed\n`]);
      const log = await readFile(logFile, 'utf8');
      for (const line of [`${a}: placed on hold`, `${b}: placed on hold`, `${a}: requeued`, `${a}: removed`, `${b}: removed`]) assert.ok(log.includes(`"msg":"${line}"`), line);
    } finally {
      await cleanup();
      await rm(logDir, { recursive: true, force: true });
    }
  });
});
