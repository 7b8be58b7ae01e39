/**
 * The log file destination (src/log/append-file.ts): every line is in the
 * file when the log call returns; a file that refuses writes (a full disk,
 * non-negotiable 7) never makes a write throw, holds a bounded backlog,
 * and writes it out in order, without losing or repeating a byte of a
 * line, once space is back. /dev/full refuses every write; the recovery
 * tests fill a 1 MiB tmpfs (root only, as test/inbound/full-disk.test.ts).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendFile } from '../../src/log/append-file.ts';
import { mountTmpfs, tmpfsSkip, type Tmpfs } from '../fixtures/tmpfs.ts';

function collector(): { warn: (t: string) => void; notes: string[] } {
  const notes: string[] = [];
  return { warn: (t) => void notes.push(t), notes };
}

test('each line is in the file when write() returns, in order, after what the file held', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-append-'));
  try {
    const file = join(dir, 'sub', 'relay.log');
    const out = new AppendFile(file);
    out.write('one\n');
    assert.equal(await readFile(file, 'utf8'), 'one\n', 'the directory is made and the line written at once');
    out.write('two\n');
    const again = new AppendFile(file);
    again.write('three\n');
    assert.equal(await readFile(file, 'utf8'), 'one\ntwo\nthree\n', 'a second descriptor appends, as the delivery thread does');
    out.close();
    again.close();
    out.write('dropped\n');
    assert.equal(await readFile(file, 'utf8'), 'one\ntwo\nthree\n', 'nothing is written after close()');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unusable path throws when the destination is made (a configuration error, before the daemon starts)', () => {
  assert.throws(() => new AppendFile('/proc/version/relay.log'));
});

describe('a file that refuses every write (/dev/full: ENOSPC)', () => {
  test('write() never throws; one notice per outage; the backlog is bounded and the overflow counted', () => {
    const { warn, notes } = collector();
    const out = new AppendFile('/dev/full', { maxBacklogBytes: 100, warn });
    for (let i = 0; i < 10; i++) out.write(`line ${i} of twenty bytes\n`.slice(0, 20));
    assert.deepEqual(out.held, { lines: 5, bytes: 100, dropped: 5 });
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /log file \/dev\/full: write failed \(ENOSPC\); holding up to 100 bytes/);
    out.flushSync();
    let called = false;
    out.flush(() => (called = true));
    assert.ok(called, 'flush calls back although nothing could be written');
    assert.equal(notes.length, 1);
  });
});

describe('a full disk that frees up again (tmpfs)', { skip: tmpfsSkip }, () => {
  let disk: Tmpfs;
  before(async () => (disk = await mountTmpfs()));
  after(async () => disk.unmount());

  test('lines held while the disk is full are written first, in order, once it has space; a line cut by ENOSPC is completed, not repeated', async () => {
    const { warn, notes } = collector();
    const file = join(disk.dir, 'relay.log');
    const out = new AppendFile(file, { warn });
    const filler = await disk.fill(4096);
    const line = (tag: string): string => `${tag}${'.'.repeat(2999 - tag.length)}\n`;
    out.write(line('a')); // fits
    out.write(line('b')); // 1,096 bytes fit: a short write, then ENOSPC
    out.write(line('c')); // held
    assert.equal((await readFile(file, 'utf8')).length, 4096, 'the file took what the disk had');
    assert.deepEqual(out.held, { lines: 2, bytes: 6000 - 1096, dropped: 0 });
    assert.equal(notes.length, 1);
    await rm(filler);
    out.write(line('d'));
    assert.equal(await readFile(file, 'utf8'), line('a') + line('b') + line('c') + line('d'));
    assert.deepEqual(out.held, { lines: 0, bytes: 0, dropped: 0 });
    assert.match(notes[1] ?? '', /writable again after ENOSPC$/m);
    out.close();
    await rm(file);
  });

  test('what did not fit in the backlog is counted in the recovery notice', async () => {
    const { warn, notes } = collector();
    const file = join(disk.dir, 'relay.log');
    const out = new AppendFile(file, { warn, maxBacklogBytes: 10 });
    const filler = await disk.fill(0);
    out.write('12345\n');
    out.write('67890\n');
    out.write('abcde\n');
    await rm(filler);
    out.flushSync();
    assert.equal(await readFile(file, 'utf8'), '12345\n');
    assert.match(notes.at(-1) ?? '', /writable again after ENOSPC; 2 lines were dropped/);
    out.close();
  });
});
