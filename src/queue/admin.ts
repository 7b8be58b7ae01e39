/**
 * Queue administration on the files (mailq / postqueue / postsuper), safe on
 * a running or a stopped relay: it only reads queue files, renames or
 * unlinks them, and drops the flush trigger.
 *
 * - `listQueue`: every message in incoming, active, deferred, hold and
 *   corrupt, oldest first, with its recipients' states.
 * - `deleteMessage`: removes the queue file (a running relay that
 *   is delivering it notices the file is gone and drops it; see
 *   scheduler.persist).
 * - `requestFlush`: creates `<spool>/flush`; a running relay picks it up
 *   within a second (FlushWatcher), a stopped one at its next start.
 * Failure modes: a spool directory that does not exist is `SpoolMissingError`.
 */
import { stat, writeFile } from 'node:fs/promises';
import { QUEUE_DIRS, Spool, type QueueDir } from './spool.ts';
import type { QueueRecord } from './record.ts';
import { isQueueId } from './queue-id.ts';

export class SpoolMissingError extends Error {
  readonly code = 'SPOOL_MISSING';
}

export type QueueEntry =
  | { kind: 'ok'; id: string; dir: QueueDir; record: QueueRecord }
  | { kind: 'corrupt'; id: string; dir: QueueDir; reason: string };

export async function openExistingSpool(root: string): Promise<Spool> {
  const s = await stat(root).catch(() => undefined);
  if (!s?.isDirectory()) throw new SpoolMissingError(`no spool directory at ${root}`);
  return Spool.open(root);
}

export async function listQueue(spool: Spool): Promise<QueueEntry[]> {
  const entries: QueueEntry[] = [];
  for (const dir of QUEUE_DIRS) {
    for (const id of await spool.list(dir)) {
      const read = await spool.readRecord(dir, id);
      if (read.kind === 'ok') entries.push({ kind: 'ok', id, dir, record: read.record });
      else if (read.kind === 'corrupt') entries.push({ kind: 'corrupt', id, dir, reason: read.reason });
    }
  }
  return entries.sort((a, b) => a.id.localeCompare(b.id));
}

export async function findMessage(spool: Spool, id: string): Promise<QueueEntry | undefined> {
  if (!isQueueId(id)) return undefined;
  const dir = await spool.locate(id);
  if (!dir) return undefined;
  const read = await spool.readRecord(dir, id);
  if (read.kind === 'ok') return { kind: 'ok', id, dir, record: read.record };
  if (read.kind === 'corrupt') return { kind: 'corrupt', id, dir, reason: read.reason };
  return undefined;
}

/** True when the message was found and removed. */
export async function deleteMessage(spool: Spool, id: string): Promise<boolean> {
  if (!isQueueId(id)) return false;
  const dir = await spool.locate(id);
  if (!dir) return false;
  await spool.remove(id, dir);
  return true;
}

export async function requestFlush(spool: Spool): Promise<void> {
  await writeFile(spool.flushTrigger, `${new Date().toISOString()}\n`);
}
