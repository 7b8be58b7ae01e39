/**
 * The durable spool: files on disk, the queue state of a message being the
 * directory its queue file is in (Postfix's model, src/global/mail_queue.c).
 *
 *     <root>/tmp/            files being written (emptied at start)
 *     <root>/incoming/ID     queue file (queue-file.ts): content + envelope and recipient state
 *     <root>/active/ID       ... being delivered now
 *     <root>/deferred/ID     ... waiting; the file's mtime is the next attempt time
 *     <root>/hold/ID         ... kept until an operator moves it back
 *     <root>/corrupt/ID      ... could not be parsed
 *     <root>/flush           trigger: `dane-relay queue flush` creates it
 *     <root>/pid             the running relay's pid (lock)
 *     <root>/checked-boot    the kernel boot whose torn-file check is done (setAsideTorn())
 *
 * Promises: a queue file is only ever written whole in `tmp/`. A new
 * message's file is then renamed into its queue directory and fsynced: one
 * fsync per message, as Postfix's one fsync of the queue file. That fsync
 * also makes the rename durable on the journaling file systems Linux runs
 * a spool on (ext4 and XFS set the file's ctime in the rename and commit
 * that transaction with the file; btrfs logs the new name with the file):
 * Postfix's own requirement of its queue file system, "a file is not lost
 * after fsync() for that file (not its parent directory) returns". A
 * message is accepted (250) only after `beginMessage(...).commit(record)`
 * resolved. A power loss can leave a file renamed but not yet fsynced
 * (never answered 250): the first start of each boot checks the checksum
 * (queue-file.ts) of every file in `incoming/` (where `recover()` has just
 * moved `active/`) and moves a torn one to `corrupt/` (`setAsideTorn`).
 * A new message is committed into `incoming/`, or straight into `active/`
 * when the running relay's queue takes it for delivery at once
 * (`commit(record, 'active')`: Postfix's active queue is the messages its
 * queue manager holds in memory, and this saves the incoming -> active
 * rename; after a crash `recover()` moves it back to `incoming/` like any
 * other active message). A record change (`writeRecord`) writes a new copy,
 * fsyncs it, renames it over the old one and fsyncs the directory, so the
 * old or the new copy is there, whole, at every moment. Directory fsyncs
 * are group-committed (dir-sync.ts): concurrent
 * writers share one fsync that started after their rename. Moves are
 * renames; a move INTO `active/` is not followed by a directory fsync, as in
 * Postfix: if a crash forgets it, the file is still in `incoming/` or
 * `deferred/` and is delivered from there (and `recover()` moves `active/`
 * back to `incoming/` anyway) — the message is never lost either way. Moves
 * to `deferred/`, `hold/`, `corrupt/` are fsynced, so an operator's hold
 * survives a crash. Removal is an unlink, or for a small message a rename
 * into `tmp/` that keeps the file as a spare for the next new message to be
 * written over (spare-files.ts: one inode allocation less per message);
 * neither has a directory fsync (Postfix's unlink has none): a crash may
 * forget it, and the message is then delivered again — never lost.
 * Failure modes: I/O errors are thrown (the caller answers 451 / defers);
 * damaged queue files are reported as `corrupt`, never thrown.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { currentBootId } from './boot-id.ts';
import { DirSyncer } from './dir-sync.ts';
import { migrateLegacyLayout } from './legacy-layout.ts';
import { isQueueId } from './queue-id.ts';
import { readContent, readQueueRecord, rewriteQueueFile, verifyQueueFile } from './queue-file-io.ts';
import { SpareFiles } from './spare-files.ts';
import type { ParsedRecord, QueueRecord } from './record.ts';

export const QUEUE_DIRS = ['incoming', 'active', 'deferred', 'hold', 'corrupt'] as const;
export type QueueDir = (typeof QUEUE_DIRS)[number];

export class SpoolLockedError extends Error {
  readonly code = 'SPOOL_LOCKED';
}

export type ReadResult = ParsedRecord | { kind: 'missing' };

/** Where a new message is committed: `incoming/`, or `active/` when the running queue takes it at once. */
export type NewMessageDir = 'incoming' | 'active';

/** A new message being written: `write` content chunks, then `commit` (durable, in `incoming/` or `active/`) or `abort`. */
export interface MessageWriter {
  /** The message's queue id (queue-id.ts: acceptance time + inode of its file). */
  readonly id: string;
  write(chunk: Buffer): Promise<void>;
  /** Writes the record, renames the file into `into` (default `incoming/`), fsyncs it. */
  commit(record: QueueRecord, into?: NewMessageDir): Promise<void>;
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
  /** Files of delivered messages, written over by new ones (spare-files.ts). */
  private readonly spares = new SpareFiles((name) => this.tmpPath(name));
  /** Temp names are NAME.pid.seq: unique across processes sharing the spool (the CLI writes too). */
  private tmpSeq = 0;
  /** process.pid, read once (each read is a getpid system call). */
  private readonly pid = process.pid;

  private constructor(readonly root: string) {}

  /** Creates the directory layout if needed. Does not lock or recover. */
  static async open(root: string): Promise<Spool> {
    for (const d of ['tmp', ...QUEUE_DIRS]) await mkdir(join(root, d), { recursive: true });
    return new Spool(root);
  }

  path(dir: QueueDir, id: string): string {
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
   * active -> incoming (an interrupted delivery is retried), tmp emptied
   * (half-written messages were never answered 250), a spool of the older
   * two-file layout converted (legacy-layout.ts). Returns the ids moved
   * back. `setAsideTorn` follows, before the backlog is delivered.
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
    await migrateLegacyLayout(this.root, QUEUE_DIRS, (id) => this.tmpPath(id), (dir) => this.dirSync.sync(dir));
    return moved;
  }

  /**
   * The torn-file check, after `recover()` and before the backlog in
   * `incoming/` is delivered (new messages may arrive meanwhile: they are
   * whole). Once per kernel boot, every file in `incoming/` is read whole:
   * one whose trailer, record or checksum is wrong (a commit torn by a
   * crash before its fsync, never answered 250) goes to `corrupt/`. Only a
   * power loss or a kernel crash can tear a file (after a process crash,
   * even kill -9, the page cache still holds every byte written), and
   * either starts a new boot: so the check runs when `checked-boot` does
   * not name the running kernel's boot (`bootId`, default boot-id.ts; none
   * known: every start checks), and `checked-boot` is written only after it
   * finished. A restart in the same boot (an upgrade, a crash of the
   * process) then skips it. Files copied into the spool from elsewhere are
   * checked only if `checked-boot` is deleted first (README). Returns the
   * files set aside.
   */
  async setAsideTorn(bootId: Promise<string | undefined> = currentBootId()): Promise<Array<{ id: string; reason: string }>> {
    const boot = await bootId;
    const checkedBoot = join(this.root, 'checked-boot');
    if (boot !== undefined && (await readFile(checkedBoot, 'utf8').catch(() => '')).trim() === boot) return [];
    const torn: Array<{ id: string; reason: string }> = [];
    for (const id of await this.list('incoming')) {
      // A file that cannot be read now stays: its delivery attempt reports it (deferred).
      const checked = await verifyQueueFile(this.path('incoming', id), id).catch(() => undefined);
      if (checked?.kind !== 'corrupt') continue;
      await rename(this.path('incoming', id), this.path('corrupt', id));
      torn.push({ id, reason: checked.reason });
    }
    if (torn.length > 0) await this.dirSync.sync(join(this.root, 'corrupt'));
    // Not fsynced, and a failed write is ignored: the next start then checks once more.
    if (boot !== undefined) await writeFile(checkedBoot, `${boot}\n`).catch(() => undefined);
    return torn;
  }

  async list(dir: QueueDir): Promise<string[]> {
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

  /**
   * A new message accepted at `nowMs`; its id is known once its file exists
   * (queue-id.ts), and it enters the queue (`incoming/`) when `commit`
   * resolves.
   */
  async beginMessage(nowMs: number): Promise<MessageWriter> {
    const { path: tmp, file, id } = await this.spares.newFile(nowMs);
    let final: string | undefined;
    return {
      id,
      write: (chunk) => file.write(chunk),
      commit: async (record, into = 'incoming') => {
        if (record.id !== id) throw new Error(`record ${record.id} written as ${id}`);
        file.seal(record);
        const path = this.path(into, id);
        await rename(tmp, path);
        final = path;
        // One fsync: the file's content, record and (see above) its new name.
        await file.sync();
      },
      abort: async () => {
        await file.discard();
        if (final !== undefined) await unlink(final).catch(() => undefined);
      },
    };
  }

  /** Releases the kept directory descriptors (dir-sync.ts); the spool stays usable. */
  close(): Promise<void> {
    return this.dirSync.close();
  }

  /** The content (`size` bytes, the record's size) of a queued message. */
  openContent(dir: QueueDir, id: string, size: number): Readable {
    if (size <= 0) return Readable.from([]);
    return createReadStream(this.path(dir, id), { start: 0, end: size - 1 });
  }

  /** Up to `limit` bytes of a queued message's content. */
  readContent(dir: QueueDir, id: string, size: number, limit = Infinity): Promise<Buffer> {
    return readContent(this.path(dir, id), size, limit);
  }

  /** Durably replaces the record of the message in `dir` (its content is copied over). */
  async writeRecord(dir: QueueDir, record: QueueRecord): Promise<void> {
    const path = this.path(dir, record.id);
    const tmp = this.tmpPath(record.id);
    await rewriteQueueFile(path, tmp, record);
    await rename(tmp, path);
    await this.dirSync.sync(join(this.root, dir));
  }

  readRecord(dir: QueueDir, id: string): Promise<ReadResult> {
    return readQueueRecord(this.path(dir, id), id);
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

  /**
   * Removes a message: its file becomes a spare for a new message when
   * `contentSize` (the record's size) is given and small (spare-files.ts),
   * else it is unlinked. No directory fsync: a forgotten removal means a
   * second delivery, never a loss.
   */
  remove(id: string, dir: QueueDir, contentSize?: number): Promise<void> {
    return this.spares.remove(this.path(dir, id), id, contentSize);
  }

  private tmpPath(name: string): string {
    this.tmpSeq = (this.tmpSeq + 1) % 1e9;
    return join(this.root, 'tmp', `${name}.${this.pid}.${this.tmpSeq}.tmp`);
  }

  private async writeDurable(dir: string, name: string, data: Buffer): Promise<void> {
    const tmp = this.tmpPath(name);
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
