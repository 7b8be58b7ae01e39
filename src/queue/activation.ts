/**
 * Activation: a due message moves into `active/` and its record is loaded
 * for a delivery pass. The record inbound just wrote may be passed in (it is
 * what is on disk); otherwise the queue file's record is read. A queue file
 * that cannot be parsed (damaged trailer or record) goes to `corrupt/` and is
 * logged; it never stops the scheduler. A message gone meanwhile (deleted by
 * the operator) yields undefined.
 */
import type { Logger } from 'pino';
import type { QueueRecord } from './record.ts';
import type { Spool } from './spool.ts';

export async function activateMessage(spool: Spool, logger: Logger, id: string, from: 'incoming' | 'deferred' | 'active', known?: QueueRecord): Promise<QueueRecord | undefined> {
  try {
    if (from !== 'active') await spool.move(id, from, 'active');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.error({ qid: id, err }, `${id}: cannot activate: ${String(err)}`);
    return undefined;
  }
  if (known) return known;
  const read = await spool.readRecord('active', id);
  if (read.kind === 'missing') return undefined;
  if (read.kind === 'corrupt') {
    const reason = read.reason;
    logger.error({ qid: id, event: 'corrupt', reason }, `${id}: corrupt queue file (${reason}), moved to corrupt/`);
    await spool.move(id, 'active', 'corrupt').catch(() => undefined);
    return undefined;
  }
  return read.record;
}
