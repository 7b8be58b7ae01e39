/**
 * Reading and writing one queue file (format: queue-file.ts). spool.ts
 * decides where files live and when directories are fsynced; this module
 * only moves bytes.
 *
 * - `createQueueFile`: a writer for a new file at `tmp` (with its inode
 *   number); `reuseQueueFile` the same over an existing file (a spare, its
 *   inode kept, its old bytes overwritten and cut to the new length by
 *   `seal`): `write` buffers and writes content in batches (keeping their
 *   checksum), `seal(record)` appends record + trailer in the same write as
 *   the last batch (synchronous: under 64 KiB into the page cache), `sync()`
 *   fsyncs and closes the file; `finish(record)` is both. The spool renames a
 *   new message into place between `seal` and `sync`, a rewritten one after
 *   `finish`. `discard` closes and unlinks it.
 * - `rewriteQueueFile`: a copy of `src` with a new record, fsynced at `tmp`
 *   (content copied from `src`, which must hold at least `record.size`
 *   bytes of content, else it throws).
 * - `readQueueRecord`: the record of a file (`missing` when there is no
 *   file, `corrupt` when trailer or record are damaged; never throws for
 *   those, other I/O errors are thrown).
 * - `readContent`: up to `limit` bytes of a file's content.
 * - `verifyQueueFile`: reads a whole file and checks trailer, record and
 *   checksum (`ok`, `corrupt`, or `missing`; other I/O errors are thrown).
 */
import { close as closeCb, closeSync, fstatSync, fsync as fsyncCb, ftruncateSync, open as openCb, unlink as unlinkCb, write as writeCb, writeSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { checkBody, checkRecord, checksum, encodeTail, parseTrailer, TRAILER_MAX } from './queue-file.ts';
import type { ParsedRecord, QueueRecord } from './record.ts';

const WRITE_BATCH = 64 * 1024;

const openP = promisify(openCb);
const fsyncP = promisify(fsyncCb);
const unlinkP = promisify(unlinkCb);
const writeP = (fd: number, buf: Buffer, offset: number, length: number): Promise<number> =>
  new Promise((resolve, reject) => writeCb(fd, buf, offset, length, null, (err, n) => (err ? reject(err) : resolve(n))));
/** Bytes a write(2) took; one that took none without an error fails (EIO) rather than loop for ever. */
function wrote(n: number): number {
  if (n <= 0) throw Object.assign(new Error('queue file write took no bytes'), { code: 'EIO' });
  return n;
}

/** Read from the end of a file at once: trailer and, for most messages, the whole record. */
const TAIL_READ = 8 * 1024;

export interface QueueFileWriter {
  /** The file's inode number (queue-id.ts names new messages by it). */
  readonly inode: bigint;
  /** Bytes the file held when opened: 0 for a new file, the old size of a reused one. */
  readonly priorSize: number;
  write(chunk: Buffer): Promise<void>;
  /** Appends the record (its `size` must be the bytes written) and the trailer; no fsync yet. */
  seal(record: QueueRecord): void;
  /** Fsyncs the file (after `seal`) and closes it. */
  sync(): Promise<void>;
  /** `seal` then `sync`. */
  finish(record: QueueRecord): Promise<void>;
  /** Closes (if needed) and unlinks the file. */
  discard(): Promise<void>;
}

/** Reads exactly `buf.length` bytes at `position`, or throws on a short file. */
async function readExactly(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new Error(`queue file shorter than expected (${position + off} bytes)`);
    off += bytesRead;
  }
}

export function createQueueFile(tmp: string): Promise<QueueFileWriter> {
  return writerAt(tmp, 'wx');
}

/**
 * A writer that overwrites the existing file at `path` (a spare, spare-files.ts)
 * from its start, keeping its inode: the new content replaces the old in
 * place and `seal` cuts what is left of the old beyond it. Throws (ENOENT)
 * if the file is gone.
 */
export function reuseQueueFile(path: string): Promise<QueueFileWriter> {
  return writerAt(path, 'r+');
}

async function writerAt(tmp: string, flags: 'wx' | 'r+'): Promise<QueueFileWriter> {
  // A plain descriptor, not a FileHandle: this runs once per accepted message.
  const fd = await openP(tmp, flags, 0o600);
  // fstat of an open descriptor reads the in-memory inode: no disk I/O.
  let inode: bigint;
  let priorSize: number;
  try {
    const st = fstatSync(fd, { bigint: true });
    inode = st.ino;
    priorSize = Number(st.size);
  } catch (err) {
    closeCb(fd, () => unlinkCb(tmp, () => undefined));
    throw err;
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let written = 0;
  let crc = 0;
  let closed = false;
  // close(2) of a regular file after its fsync does no I/O: done in place
  // rather than as one more round trip through the thread pool per message.
  const close = (): void => {
    if (closed) return;
    closed = true;
    closeSync(fd);
  };
  const take = (extra?: Buffer): Buffer => {
    if (extra) pending.push(extra);
    const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    return data;
  };
  const flush = async (): Promise<void> => {
    const data = take();
    for (let off = 0; off < data.length; ) off += wrote(await writeP(fd, data, off, data.length - off));
  };
  const seal = (record: QueueRecord): void => {
    if (record.size !== written) throw new Error(`record size ${record.size} but ${written} bytes of content written`);
    // The last batch (under WRITE_BATCH bytes plus the record: for most
    // messages the whole file) is written in place: a write(2) of that size
    // only copies into the page cache (6-8 us of CPU here), far less than a
    // round trip through the thread pool; the fsync that follows is where
    // the disk is waited for, and it stays off this thread. Batches before
    // it (large messages) still go through the pool, so a writeback
    // throttle cannot hold the event loop for a whole message.
    const tail = encodeTail(record, crc);
    const data = take(tail);
    for (let off = 0; off < data.length; ) off += wrote(writeSync(fd, data, off, data.length - off));
    // A reused file longer than the new one: its trailer must end the file
    // (parseTrailer) before the file is renamed into the queue. At most a
    // spare's size (spare-files.ts) is freed, in place.
    const size = written + tail.length;
    if (priorSize > size) ftruncateSync(fd, size);
  };
  const sync = async (): Promise<void> => {
    await fsyncP(fd);
    close();
  };
  return {
    inode,
    priorSize,
    write: async (chunk) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      written += chunk.length;
      crc = checksum(chunk, crc);
      if (pendingBytes >= WRITE_BATCH) await flush();
    },
    seal,
    sync,
    finish: async (record) => {
      seal(record);
      await sync();
    },
    discard: async () => {
      try {
        close();
      } catch {
        /* already gone */
      }
      await unlinkP(tmp).catch(() => undefined);
    },
  };
}

export async function rewriteQueueFile(src: string, tmp: string, record: QueueRecord): Promise<void> {
  const out = await createQueueFile(tmp);
  try {
    const inp = await open(src, 'r');
    try {
      for (let pos = 0; pos < record.size; ) {
        const chunk = Buffer.allocUnsafe(Math.min(WRITE_BATCH, record.size - pos));
        await readExactly(inp, chunk, pos);
        await out.write(chunk);
        pos += chunk.length;
      }
    } finally {
      await inp.close();
    }
    await out.finish(record);
  } catch (err) {
    await out.discard();
    throw err;
  }
}

export async function readQueueRecord(path: string, id: string): Promise<ParsedRecord | { kind: 'missing' }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const tail = Buffer.allocUnsafe(Math.min(size, TAIL_READ));
    await readExactly(fh, tail, size - tail.length);
    const layout = parseTrailer(tail.subarray(Math.max(0, tail.length - TRAILER_MAX)), size);
    if (layout.kind === 'corrupt') return layout;
    const inTail = layout.recordStart - (size - tail.length);
    let recordBytes: Buffer;
    if (inTail >= 0) recordBytes = tail.subarray(inTail, inTail + layout.recordLength);
    else {
      recordBytes = Buffer.allocUnsafe(layout.recordLength);
      await readExactly(fh, recordBytes, layout.recordStart);
    }
    return checkRecord(recordBytes, layout, id);
  } finally {
    await fh.close();
  }
}

export async function readContent(path: string, size: number, limit = Infinity): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(size, limit));
    await readExactly(fh, buf, 0);
    return buf;
  } finally {
    await fh.close();
  }
}

/** Reads the whole file at `path` and checks trailer, record and checksum. */
export async function verifyQueueFile(path: string, id: string): Promise<ParsedRecord | { kind: 'missing' }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  const layout = parseTrailer(bytes.subarray(Math.max(0, bytes.length - TRAILER_MAX)), bytes.length);
  if (layout.kind === 'corrupt') return layout;
  const body = checkBody(bytes.subarray(0, layout.recordStart + layout.recordLength), layout);
  if (body.kind === 'corrupt') return body;
  return checkRecord(bytes.subarray(layout.recordStart, layout.recordStart + layout.recordLength), layout, id);
}
