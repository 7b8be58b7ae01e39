/**
 * Group commit for directory fsyncs: many concurrent renames into the same
 * spool directory share one fsync of that directory.
 *
 * Contract: `sync(dir)` resolves only after an fsync of `dir` that STARTED
 * AFTER the call was made has completed — so every rename the caller finished
 * before calling is durable. The spool uses it where a rename must survive a
 * crash on its own: record rewrites, moves to `deferred/`, `hold/` and
 * `corrupt/`, recovery (a new message needs none: its file's own fsync,
 * after its rename, is its commit; spool.ts). While an fsync of `dir` is
 * running, later callers join one follow-up fsync that starts when it ends;
 * so at most one fsync per directory runs at a time and at most one waits.
 * Errors reach every caller that joined the failing fsync.
 *
 * Each directory is opened once and its descriptor kept for the syncer's
 * life (an fsync of a directory needs no fresh descriptor: it flushes the
 * directory's entries, whoever made them), which saves an open and a close
 * per fsync; a descriptor whose fsync failed is closed and reopened next
 * time. `close()` releases them (later syncs reopen).
 */
import { close as closeFd, fsync as fsyncFd, open as openFd } from 'node:fs';
import { promisify } from 'node:util';

const openP = promisify(openFd);
const fsyncP = promisify(fsyncFd);
const closeP = promisify(closeFd);

/** Directory descriptors kept open, one per path. */
class DirHandles {
  private readonly fds = new Map<string, Promise<number>>();

  async fsync(dir: string): Promise<void> {
    let fd = this.fds.get(dir);
    if (!fd) {
      fd = openP(dir, 'r');
      this.fds.set(dir, fd);
      fd.catch(() => this.fds.delete(dir));
    }
    const n = await fd;
    try {
      await fsyncP(n);
    } catch (err) {
      if (this.fds.get(dir) === fd) this.fds.delete(dir);
      await closeP(n).catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const all = [...this.fds.values()];
    this.fds.clear();
    await Promise.all(all.map((fd) => fd.then((n) => closeP(n), () => undefined).catch(() => undefined)));
  }
}

interface DirState {
  running: Promise<void> | null;
  next: Promise<void> | null;
}

export class DirSyncer {
  private readonly dirs = new Map<string, DirState>();

  private readonly handles = new DirHandles();
  private readonly fsync: (dir: string) => Promise<void>;

  constructor(fsync?: (dir: string) => Promise<void>) {
    this.fsync = fsync ?? ((dir) => this.handles.fsync(dir));
  }

  /** Closes the kept directory descriptors (after the last sync). */
  close(): Promise<void> {
    return this.handles.close();
  }

  sync(dir: string): Promise<void> {
    let st = this.dirs.get(dir);
    if (!st) {
      st = { running: null, next: null };
      this.dirs.set(dir, st);
    }
    if (!st.running) return this.start(dir, st);
    // An fsync is running, but it may have started before our rename: join the next one.
    st.next ??= st.running.catch(() => undefined).then(() => {
      (st as DirState).next = null;
      return this.start(dir, st as DirState);
    });
    return st.next;
  }

  private start(dir: string, st: DirState): Promise<void> {
    const p = this.fsync(dir).finally(() => {
      if (st.running === p) st.running = null;
    });
    st.running = p;
    return p;
  }
}
