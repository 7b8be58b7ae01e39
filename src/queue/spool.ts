/**
 * The durable spool: files on disk, the queue state of a message being the
 * directory its control file is in (Postfix's model, src/global/mail_queue.c).
 *
 *     <root>/tmp/            files being written (emptied at start)
 *     <root>/body/ID         message content, written once, never changed
 *     <root>/incoming/ID     control file (record.ts): envelope + recipient state
 *     <root>/active/ID       ... being delivered now
 *     <root>/deferred/ID     ... waiting; the file's mtime is the next attempt time
 *     <root>/hold/ID         ... kept until an operator moves it back
 *     <root>/corrupt/ID      ... could not be parsed (or its body is missing)
 *     <root>/flush           trigger: `dane-relay queue flush` creates it
 *     <root>/pid             the running relay's pid (lock)
 *
 * Promises: every write is write-temp, fsync, rename, fsync directory; a
 * message is accepted only after its body and then its control file are on
 * disk (`commitBody` then `writeRecord(incoming)`). Directory fsyncs are
 * group-committed (dir-sync.ts): concurrent writers share one fsync that
 * started after their rename. Moves are renames; a move INTO `active/` is not
 * followed by a directory fsync, as in Postfix: if a crash forgets it, the
 * file is still in `incoming/` or `deferred/` and is delivered from there
 * (and `recover()` moves `active/` back to `incoming/` anyway) — the message
 * is never lost either way. Moves to `deferred/`, `hold/`, `corrupt/` are
 * fsynced, so an operator's hold survives a crash.
 * Removal unlinks the control file first, so a crash leaves at most an orphan
 * body, which `recover()` deletes at the next start.
 * Failure modes: I/O errors are thrown (the caller answers 451 / defers);
 * unparsable control files are reported as `corrupt`, never thrown.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DirSyncer } from './dir-sync.ts';
import { isQueueId } from './queue-id.ts';
import { parseRecord, serializeRecord, type ParsedRecord, type QueueRecord } from './record.ts';

export const QUEUE_DIRS = ['incoming', 'active', 'deferred', 'hold', 'corrupt'] as const;
export type QueueDir = (typeof QUEUE_DIRS)[number];

export class SpoolLockedError extends Error {
  readonly code = 'SPOOL_LOCKED';
}

export type ReadResult = ParsedRecord | { kind: 'missing' };

/** A body being written: `write` chunks, then `commit` (durable) or `abort`. */
export interface BodyWriter {
  write(chunk: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Spool {
  private readonly dirSync = new DirSyncer();

  private constructor(readonly root: string) {}

  /** Creates the directory layout if needed. Does not lock or recover. */
  static async open(root: string): Promise<Spool> {
    for (const d of ['tmp', 'body', ...QUEUE_DIRS]) await mkdir(join(root, d), { recursive: true });
    return new Spool(root);
  }

  path(dir: QueueDir | 'body', id: string): string {
    if (!isQueueId(id)) throw new Error(`bad queue id ${JSON.stringify(id)}`);
    return join(this.root, dir, id);
  }

  get flushTrigger(): string {
    return join(this.root, 'flush');
  }

  get pidFile(): string {
    return join(this.root, 'pid');
  }

  /**
   * Takes the spool for this process; throws SpoolLockedError if the pid
   * file names another live process. A pid file naming this very process is
   * stale (a container restarts the relay with the same pid), so one
   * process must not start two relays on one spool.
   */
  async lock(): Promise<void> {
    const text = await readFile(this.pidFile, 'utf8').catch(() => '');
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new SpoolLockedError(`spool ${this.root} is in use by pid ${pid}`);
    }
    await this.writeDurable(this.root, 'pid', Buffer.from(`${process.pid}\n`));
  }

  async unlock(): Promise<void> {
    const text = await readFile(this.pidFile, 'utf8').catch(() => '');
    if (Number(text.trim()) === process.pid) await unlink(this.pidFile).catch(() => undefined);
  }

  /**
   * Start-of-day recovery (only with the lock held, before anything runs):
   * active -> incoming (an interrupted delivery is retried), tmp emptied,
   * bodies without a control file removed. Returns the ids moved back.
   */
  async recover(): Promise<string[]> {
    const moved: string[] = [];
    for (const id of await this.list('active')) {
      await rename(this.path('active', id), this.path('incoming', id));
      moved.push(id);
    }
    if (moved.length > 0) await this.dirSync.sync(join(this.root, 'incoming'));
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.root, 'tmp'), { recursive: true });
    const known = new Set<string>();
    for (const d of QUEUE_DIRS) for (const id of await this.list(d)) known.add(id);
    for (const id of await this.list('body')) if (!known.has(id)) await unlink(this.path('body', id)).catch(() => undefined);
    return moved;
  }

  async list(dir: QueueDir | 'body'): Promise<string[]> {
    const names = await readdir(join(this.root, dir)).catch(() => [] as string[]);
    return names.filter(isQueueId).sort();
  }

  /** The queue directory holding `id`, if any. */
  async locate(id: string): Promise<QueueDir | undefined> {
    for (const d of QUEUE_DIRS) {
      if (await stat(this.path(d, id)).then(() => true, () => false)) return d;
    }
    return undefined;
  }

  async beginBody(id: string): Promise<BodyWriter> {
    const tmp = join(this.root, 'tmp', `${id}.body`);
    const fh: FileHandle = await open(tmp, 'wx', 0o600);
    let closed = false;
    const close = async (): Promise<void> => {
      if (!closed) {
        closed = true;
        await fh.close();
      }
    };
    return {
      write: async (chunk) => {
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off)).bytesWritten;
      },
      commit: async () => {
        await fh.sync();
        await close();
        await rename(tmp, this.path('body', id));
        await this.dirSync.sync(join(this.root, 'body'));
      },
      abort: async () => {
        await close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
      },
    };
  }

  openBody(id: string): ReadStream {
    return createReadStream(this.path('body', id));
  }

  async hasBody(id: string): Promise<boolean> {
    return stat(this.path('body', id)).then(() => true, () => false);
  }

  /** Durably (re)writes the control file of `record` in `dir`. */
  async writeRecord(dir: QueueDir, record: QueueRecord): Promise<void> {
    this.path(dir, record.id);
    await this.writeDurable(join(this.root, dir), record.id, serializeRecord(record));
  }

  async readRecord(dir: QueueDir, id: string): Promise<ReadResult> {
    let text: string;
    try {
      text = await readFile(this.path(dir, id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw err;
    }
    return parseRecord(text, id);
  }

  async move(id: string, from: QueueDir, to: QueueDir): Promise<void> {
    await rename(this.path(from, id), this.path(to, id));
    if (to !== 'active') await this.dirSync.sync(join(this.root, to));
  }

  /** Deferred files carry their next attempt time as mtime (as Postfix does). */
  async setNextAttempt(dir: QueueDir, id: string, atMs: number): Promise<void> {
    const t = new Date(atMs);
    await utimes(this.path(dir, id), t, t);
  }

  async nextAttempt(dir: QueueDir, id: string): Promise<number | undefined> {
    return stat(this.path(dir, id)).then((s) => s.mtimeMs, () => undefined);
  }

  /** Removes a message: control file first, then its body. */
  async remove(id: string, dir: QueueDir): Promise<void> {
    await unlink(this.path(dir, id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await this.dirSync.sync(join(this.root, dir));
    await unlink(this.path('body', id)).catch(() => undefined);
  }

  private async writeDurable(dir: string, name: string, data: Buffer): Promise<void> {
    const tmp = join(this.root, 'tmp', `${name}.${randomBytes(4).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
    await this.dirSync.sync(dir);
  }
}
