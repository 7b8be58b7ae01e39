/**
 * Group commit for directory fsyncs: many concurrent renames into the same
 * spool directory share one fsync of that directory.
 *
 * Contract: `sync(dir)` resolves only after an fsync of `dir` that STARTED
 * AFTER the call was made has completed — so every rename the caller finished
 * before calling is durable (non-negotiable 4: nothing is answered 250 before
 * the file and its directory entry are on disk). While an fsync of `dir` is
 * running, later callers join one follow-up fsync that starts when it ends;
 * so at most one fsync per directory runs at a time and at most one waits.
 * Errors reach every caller that joined the failing fsync.
 */
import { open } from 'node:fs/promises';

async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface DirState {
  running: Promise<void> | null;
  next: Promise<void> | null;
}

export class DirSyncer {
  private readonly dirs = new Map<string, DirState>();

  constructor(private readonly fsync: (dir: string) => Promise<void> = fsyncDirectory) {}

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
