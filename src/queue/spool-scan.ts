/**
 * The spool scan: finds the messages in `incoming/` and `deferred/` the
 * scheduler does not know yet (at start, then every scan interval: a restart,
 * a file the operator moved, a hand-over that was missed), with their next
 * attempt time (the file's mtime in `deferred/`; now in `incoming/`).
 *
 * Contract: next attempt times are read SCAN_STATS at a time (one by one,
 * 100,000 deferred messages took seconds) and reported per chunk, so
 * deliveries start while a long scan goes on. Returns every id seen, for the
 * caller to forget what left the spool. I/O errors are thrown.
 */
import type { Spool } from './spool.ts';

/** Queue files whose next attempt time a scan reads concurrently. */
const SCAN_STATS = 64;

export interface ScanSink {
  known: (id: string) => boolean;
  now: () => number;
  found: (id: string, dir: 'incoming' | 'deferred', due: number) => void;
  /** After each chunk. */
  progress: () => void;
}

export async function scanSpool(spool: Spool, sink: ScanSink): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const dir of ['incoming', 'deferred'] as const) {
    const ids = await spool.list(dir);
    for (const id of ids) seen.add(id);
    const fresh = ids.filter((id) => !sink.known(id));
    for (let i = 0; i < fresh.length; i += SCAN_STATS) {
      const chunk = fresh.slice(i, i + SCAN_STATS);
      const dues = await Promise.all(chunk.map(async (id) => (dir === 'incoming' ? sink.now() : ((await spool.nextAttempt(dir, id)) ?? sink.now()))));
      chunk.forEach((id, k) => {
        if (!sink.known(id)) sink.found(id, dir, dues[k] ?? sink.now());
      });
      sink.progress();
    }
  }
  return seen;
}
