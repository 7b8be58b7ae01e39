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
 * - `holdMessage` (postsuper -h): renames incoming/ or deferred/ to hold/.
 *   A running relay never delivers from hold/ (its scan reads incoming/ and
 *   deferred/ only, and an activation of a message moved away finds no file
 *   and drops it: the rename is atomic, so either the hold or the delivery
 *   attempt wins, never both). A message in active/ is in the running
 *   relay's delivery queue (being delivered, or just accepted and about to
 *   be) and is refused (`active`): hold it after the attempt.
 * - `releaseMessage` (postsuper -H): hold/ to deferred/ with its next
 *   attempt now; `requeueMessage` (postsuper -r): incoming/, deferred/ or
 *   hold/ to incoming/ (due now). Both drop the flush trigger, so a running
 *   relay rescans and picks the message up within a second.
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

/** What an operator action on one message did. */
export type AdminOutcome =
  | { kind: 'done'; from: QueueDir }
  | { kind: 'missing' }
  | { kind: 'active' }
  | { kind: 'not-held'; dir: QueueDir };

async function moveFrom(spool: Spool, id: string, allowed: readonly QueueDir[], to: QueueDir): Promise<AdminOutcome> {
  if (!isQueueId(id)) return { kind: 'missing' };
  const dir = await spool.locate(id);
  if (!dir) return { kind: 'missing' };
  if (dir === 'active') return { kind: 'active' };
  if (!allowed.includes(dir)) return { kind: 'not-held', dir };
  try {
    await spool.move(id, dir, to);
  } catch (err) {
    // The relay activated it between locate and rename (the rename is atomic: it is being delivered now).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (await spool.locate(id)) === 'active' ? { kind: 'active' } : { kind: 'missing' };
    throw err;
  }
  return { kind: 'done', from: dir };
}

/** postsuper -h: incoming/ or deferred/ to hold/. */
export async function holdMessage(spool: Spool, id: string): Promise<AdminOutcome> {
  return moveFrom(spool, id, ['incoming', 'deferred'], 'hold');
}

/** postsuper -H: hold/ to deferred/, due now; a running relay picks it up at the flush it triggers. */
export async function releaseMessage(spool: Spool, id: string, now = Date.now()): Promise<AdminOutcome> {
  const out = await moveFrom(spool, id, ['hold'], 'deferred');
  if (out.kind === 'done') {
    await spool.setNextAttempt('deferred', id, now);
    await requestFlush(spool);
  }
  return out;
}

/** postsuper -r: incoming/, deferred/ or hold/ to incoming/ (due now), flush triggered. */
export async function requeueMessage(spool: Spool, id: string): Promise<AdminOutcome> {
  const out = await moveFrom(spool, id, ['incoming', 'deferred', 'hold'], 'incoming');
  if (out.kind === 'done') await requestFlush(spool);
  return out;
}
