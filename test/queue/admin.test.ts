import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { registerQueue } from '../../src/cli/queue.ts';
import { Scheduler } from '../../src/queue/scheduler.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { DEFER, scriptedDeliverer, settings, storeMessage, tempSpool } from './helpers.ts';

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
});
