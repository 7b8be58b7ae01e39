import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newRecord } from '../../src/queue/record.ts';
import { verifyQueueFile } from '../../src/queue/queue-file-io.ts';
import { newQueueId, queueIdTime } from '../../src/queue/queue-id.ts';
import { SpareFiles } from '../../src/queue/spare-files.ts';
import { Spool } from '../../src/queue/spool.ts';
import { storeMessage, tempSpool } from './helpers.ts';

const inodeOf = async (path: string): Promise<bigint> => (await stat(path, { bigint: true })).ino;
const sizeOf = (body: string): number => Buffer.byteLength(body);

/** A message whose content is `body`, committed into incoming/. */
async function commit(spool: Spool, body: string, now = Date.now()): Promise<string> {
  const w = await spool.beginMessage(now);
  await w.write(Buffer.from(body));
  await w.commit(newRecord({ id: w.id, sender: 'a@src.test', recipients: ['r@dst.test'], receivedAt: now, size: sizeOf(body), smtputf8: false, eightBit: false }));
  return w.id;
}

describe('spare queue files (spare-files.ts)', () => {
  test('a removed small message\'s file is kept in tmp/ and the next new message is written over it: same inode, new id, whole file', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const long = `Subject: long\r\n\r\n${'x'.repeat(5000)}\r\n`;
      const first = await commit(spool, long);
      const inode = await inodeOf(spool.path('incoming', first));
      await spool.remove(first, 'incoming', sizeOf(long));
      assert.deepEqual(await spool.list('incoming'), []);
      assert.equal((await readdir(join(dir, 'tmp'))).length, 1);

      // Shorter than the old content: seal() must cut the old bytes beyond the new trailer.
      const short = 'Subject: short\r\n\r\nhi\r\n';
      const second = await commit(spool, short);
      assert.notEqual(second, first);
      assert.equal(await inodeOf(spool.path('incoming', second)), inode);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      assert.equal((await verifyQueueFile(spool.path('incoming', second), second)).kind, 'ok');
      assert.equal((await spool.readContent('incoming', second, sizeOf(short))).toString(), short);
      const read = await spool.readRecord('incoming', second);
      assert.equal(read.kind === 'ok' && read.record.id, second);
    } finally {
      await cleanup();
    }
  });

  test('a message larger than the limit, or removed without its size (an operator\'s delete), is unlinked', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const big = `Subject: big\r\n\r\n${'y'.repeat(70 * 1024)}\r\n`;
      const a = await commit(spool, big);
      await spool.remove(a, 'incoming', sizeOf(big));
      const b = await storeMessage(spool, 'a@src.test', ['r@dst.test']);
      await spool.remove(b, 'incoming');
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      assert.deepEqual(await spool.list('incoming'), []);
    } finally {
      await cleanup();
    }
  });

  test('at most maxFiles spares are kept; the rest are unlinked', async () => {
    const { dir, cleanup } = await tempSpool();
    try {
      let seq = 0;
      const spares = new SpareFiles((name) => join(dir, 'tmp', `${name}.${++seq}`), 2);
      const removals = [];
      for (let i = 0; i < 5; i++) {
        const path = join(dir, 'incoming', `F${i}`);
        await writeFile(path, 'x');
        removals.push(spares.remove(path, `00000000000F${i}0000`, 1));
      }
      await Promise.all(removals);
      assert.equal(spares.count, 2);
      assert.equal((await readdir(join(dir, 'tmp'))).length, 2);
      assert.deepEqual(await readdir(join(dir, 'incoming')), []);
    } finally {
      await cleanup();
    }
  });

  test('a file already gone is not an error, and a spare that vanished from tmp/ gives way to a new file', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const body = 'Subject: x\r\n\r\nhello\r\n';
      await spool.remove('19A3F2C5B1E000001', 'incoming', sizeOf(body));
      const first = await commit(spool, body);
      await spool.remove(first, 'incoming', sizeOf(body));
      for (const name of await readdir(join(dir, 'tmp'))) await rm(join(dir, 'tmp', name));
      const second = await commit(spool, body);
      assert.equal((await verifyQueueFile(spool.path('incoming', second), second)).kind, 'ok');
    } finally {
      await cleanup();
    }
  });

  test('a spare that would give back its former id (same inode, same millisecond) is not used', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const body = 'Subject: x\r\n\r\nhello\r\n';
      const now = Date.now();
      const first = await commit(spool, body, now);
      const inode = await inodeOf(spool.path('incoming', first));
      await spool.remove(first, 'incoming', sizeOf(body));
      const second = await commit(spool, body, now);
      assert.notEqual(second, first);
      assert.equal(queueIdTime(second), now);
      assert.notEqual(await inodeOf(spool.path('incoming', second)), inode);
      assert.deepEqual(await readdir(join(dir, 'tmp')), [], 'the refused spare is unlinked');
    } finally {
      await cleanup();
    }
  });

  test('a refused spare is dropped even when the new file cannot be created (no descriptor or file left behind)', async () => {
    const { dir, cleanup } = await tempSpool();
    try {
      let seq = 0;
      const spares = new SpareFiles((name) => (name === 'new' ? join(dir, 'no-such-dir', 'x') : join(dir, 'tmp', `${name}.${++seq}`)));
      const path = join(dir, 'incoming', 'F0');
      await writeFile(path, 'x');
      const now = Date.now();
      await spares.remove(path, newQueueId(now, await inodeOf(path)), 1);
      await assert.rejects(spares.newFile(now), { code: 'ENOENT' });
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    } finally {
      await cleanup();
    }
  });

  test('power loss before the fsync: the old message\'s bytes under the new name are set aside as corrupt, not delivered', async () => {
    const { spool, cleanup } = await tempSpool();
    try {
      const body = 'Subject: old\r\n\r\nalready delivered\r\n';
      const old = await commit(spool, body);
      const oldBytes = spool.path('incoming', old) + '.copy';
      await copyFile(spool.path('incoming', old), oldBytes);
      await spool.remove(old, 'incoming', sizeOf(body));
      const fresh = await commit(spool, 'Subject: new\r\n\r\nnew\r\n');
      // What the disk can hold after a power loss: the new name, the old bytes (whole, checksum right).
      await copyFile(oldBytes, spool.path('incoming', fresh));
      await rm(oldBytes);
      assert.equal((await spool.readRecord('incoming', fresh)).kind, 'corrupt');
      const torn = await spool.setAsideTorn(Promise.resolve(undefined));
      assert.deepEqual(torn.map((t) => t.id), [fresh]);
      assert.match(torn[0]?.reason ?? '', new RegExp(`id ${old} in file ${fresh}`));
      assert.deepEqual(await spool.list('incoming'), []);
    } finally {
      await cleanup();
    }
  });

  test('recover() empties tmp/, spares included', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const body = 'Subject: x\r\n\r\nhello\r\n';
      await spool.remove(await commit(spool, body), 'incoming', sizeOf(body));
      assert.equal((await readdir(join(dir, 'tmp'))).length, 1);
      await spool.recover();
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    } finally {
      await cleanup();
    }
  });

  test('a message written over a spare and then aborted leaves nothing behind', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    try {
      const body = 'Subject: x\r\n\r\nhello\r\n';
      await spool.remove(await commit(spool, body), 'incoming', sizeOf(body));
      const w = await spool.beginMessage(Date.now());
      await w.write(Buffer.from('half'));
      await w.abort();
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      assert.deepEqual(await spool.list('incoming'), []);
    } finally {
      await cleanup();
    }
  });
});
