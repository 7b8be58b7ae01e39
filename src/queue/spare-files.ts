/**
 * Spare queue files: the file of a delivered message, kept in `tmp/` and
 * written over by the next new message instead of unlinking one file and
 * creating another.
 *
 * Why: creating a file allocates an inode and removing it frees one, and
 * on ext4 without a journal the allocation is the dearest step of a
 * message's whole spool life. There, ext4 will not hand out an inode freed
 * in the last minutes (`recently_deleted()` in fs/ext4/ialloc.c, so that a
 * crash cannot leave an old directory entry naming a new file), and each
 * allocation walks past every such inode: the more mail the spool has
 * turned over lately, the longer it walks. Measured on this project's
 * ext4 without a journal (README, *Development*): a third of the thread
 * pool's time went to that walk. A spare keeps its inode and blocks, so a
 * new message costs an open and an overwrite in place. Postfix creates
 * and unlinks a file per message.
 *
 * Contract:
 * - `remove(path, id, contentSize)`: retires a delivered message's file.
 *   Kept as a spare (renamed to `tmp/`) when its content is at most
 *   `maxContentBytes` and fewer than `maxFiles` spares are kept; otherwise
 *   unlinked. A file already gone is not an error. Neither is followed by
 *   a directory fsync: a crash may forget either, and the message is then
 *   delivered again, never lost (spool.ts).
 * - `newFile(nowMs)`: a writer for a new message and its queue id
 *   (queue-id.ts: time + inode). A spare is used when one is kept and
 *   still there; one that is gone, larger than `maxFileBytes`, or that
 *   would give back the id it had (the same inode in the same
 *   millisecond) is dropped for a new file.
 * - Spares are only ever in `tmp/`, which `recover()` empties: nothing
 *   leaks across a restart.
 *
 * Failure modes: I/O errors of the rename, unlink or create are thrown;
 * a spare that cannot be opened is dropped (a new file is created).
 *
 * Power loss: a spare's new bytes are fsynced with its new name, as a new
 * file's are. If the power goes before that fsync, the disk can hold the
 * new name with the old message's bytes, whole: that file's record names
 * the old id, so every reader (`parseRecord`'s id check) calls it corrupt
 * and the torn-file check (`setAsideTorn`) sets it aside. It was never
 * answered 250. The old message was delivered. The other way round (on
 * ext4 without a journal, whose fsync syncs the new name's directory but
 * not the old one's): the old name can still be there with the new
 * message's bytes; its record names the new id, and it is set aside the
 * same way, while the new name holds the new message.
 */
import { rename, unlink } from 'node:fs/promises';
import { createQueueFile, reuseQueueFile, type QueueFileWriter } from './queue-file-io.ts';
import { newQueueId } from './queue-id.ts';

/** Spares kept at most: about the messages in flight at once, so a spare is there for each new one. */
export const SPARE_MAX_FILES = 64;
/** Content of a message whose file is kept, at most. Larger files are unlinked: a spare must not hold much disk. */
export const SPARE_MAX_CONTENT_BYTES = 64 * 1024;
/** A spare larger than this (a long record) is not reused: the cut in `seal` stays small. */
export const SPARE_MAX_FILE_BYTES = 256 * 1024;

export interface NewFile {
  /** Where the file is now (in `tmp/`). */
  path: string;
  file: QueueFileWriter;
  id: string;
}

interface Spare {
  path: string;
  formerId: string;
}

export class SpareFiles {
  private readonly spares: Spare[] = [];
  /** Spares being renamed into `tmp/` now (counted against `maxFiles`). */
  private pending = 0;

  /** `tmpPath(name)`: a fresh name in `tmp/` (spool.ts). */
  constructor(
    private readonly tmpPath: (name: string) => string,
    readonly maxFiles = SPARE_MAX_FILES,
    readonly maxContentBytes = SPARE_MAX_CONTENT_BYTES,
    readonly maxFileBytes = SPARE_MAX_FILE_BYTES,
  ) {}

  /** Spares kept now. */
  get count(): number {
    return this.spares.length;
  }

  async remove(path: string, id: string, contentSize: number | undefined): Promise<void> {
    if (contentSize !== undefined && contentSize <= this.maxContentBytes && this.spares.length + this.pending < this.maxFiles) {
      const spare = this.tmpPath('spare');
      this.pending += 1;
      try {
        await rename(path, spare);
        this.spares.push({ path: spare, formerId: id });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      } finally {
        this.pending -= 1;
      }
    }
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async newFile(nowMs: number): Promise<NewFile> {
    for (let spare = this.spares.pop(); spare !== undefined; spare = this.spares.pop()) {
      const file = await reuseQueueFile(spare.path).catch(() => undefined);
      if (file === undefined) continue;
      const id = newQueueId(nowMs, file.inode);
      if (id !== spare.formerId && file.priorSize <= this.maxFileBytes) return { path: spare.path, file, id };
      // Dropped only once the new file exists, so that the new file cannot get this inode back.
      try {
        return await this.create(nowMs);
      } finally {
        await file.discard();
      }
    }
    return this.create(nowMs);
  }

  private async create(nowMs: number): Promise<NewFile> {
    const path = this.tmpPath('new');
    const file = await createQueueFile(path);
    return { path, file, id: newQueueId(nowMs, file.inode) };
  }
}
