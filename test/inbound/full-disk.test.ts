/**
 * A full disk under the spool (non-negotiable 7): the spool on a 1 MiB
 * tmpfs, filled by another file. A message whose queue file cannot be
 * written is answered `451 4.3.0`, whichever write hits ENOSPC: the last
 * one, written in place with the record (src/queue/queue-file-io.ts), or an
 * earlier batch of a large message, written through the thread pool.
 * Nothing half-written stays in tmp/ or reaches incoming/, the daemon keeps
 * serving, and once space is free again the next message is queued (250).
 * Needs root (mount); skipped otherwise.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { mountTmpfs, tmpfsSkip, type Tmpfs } from '../fixtures/tmpfs.ts';
import { withInbound } from './helpers.ts';

let disk: Tmpfs | undefined;
before(async () => {
  if (!tmpfsSkip) disk = await mountTmpfs();
});
after(async () => disk?.unmount());

/** About `bytes` of body in 78-byte lines. */
function lines(bytes: number): string {
  return Array.from({ length: Math.ceil(bytes / 78) }, () => 'z'.repeat(76)).join('\r\n');
}

async function session(port: number, body: string): Promise<string> {
  const c = await RawSmtp.connect(port);
  try {
    await c.greeting;
    return await c.send('a@src.test', ['b@dst.test'], body);
  } finally {
    c.close();
  }
}

describe('a full disk under the spool', { skip: tmpfsSkip }, () => {
  test('ENOSPC in the last write and in an earlier batch: 451 4.3.0, nothing left behind, the next message after space is freed gets 250', async () => {
    await withInbound({}, async ({ port, spool, queued, events }) => {
      const filler = await (disk as Tmpfs).fill(8192);
      const lastWrite = simpleMessage('last write', lines(30_000)); // under one batch: the in-place final write fails
      const earlyBatch = simpleMessage('early batch', lines(200_000)); // the first 64 KiB batch fails in the pool
      for (const body of [lastWrite, earlyBatch]) {
        assert.match(await session(port, body), /^451 4\.3\.0 /);
        assert.deepEqual(await readdir(join(spool.root, 'tmp')), [], 'no half-written queue file is left');
        assert.deepEqual(await spool.list('incoming'), []);
      }
      assert.deepEqual(queued, []);
      assert.ok(events.some((e) => /ENOSPC|no space/i.test(JSON.stringify(e))), 'the log says why');
      await rm(filler);
      assert.match(await session(port, lastWrite), /^250 2\.0\.0 Ok: queued as /);
      assert.equal(queued.length, 1);
      assert.deepEqual(await spool.list('incoming'), queued);
    }, join((disk as Tmpfs).dir, 'spool'));
  });
});
