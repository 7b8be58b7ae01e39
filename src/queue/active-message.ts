/**
 * A message in a delivery pass and the writes that record its state, in the
 * order they happened (used by scheduler.ts).
 *
 * Contract:
 * - `persistState`: serialised per message through `msg.writes`, so the
 *   newest state always wins on disk. Before writing, it checks that the
 *   queue file is still in `active/`: one deleted by the operator meanwhile
 *   is marked `gone`, logged, and never written again (a write would bring
 *   it back). A pass that will end in plain removal writes nothing, so it
 *   needs no check either. Errors are logged, never thrown.
 * - `finishPass`: after the last write, the end of the pass (pass.ts
 *   `endOfPass`: bounce, then remove or defer). Returns when the message is
 *   next due (`deferred`), `done` (removed, or gone), or `retry` with the
 *   directory it is in after an I/O error (retried after the minimum
 *   backoff; the error is logged).
 */
import type { Logger } from 'pino';
import { endOfPass, endsInRemoval, type PassContext } from './pass.ts';
import type { QueueRecord } from './record.ts';
import type { Spool } from './spool.ts';

export interface ActiveMessage {
  record: QueueRecord;
  /** The content, while the scheduler holds it in memory (small, fresh messages). */
  body?: Buffer;
  jobsLeft: number;
  writes: Promise<void>;
  gone: boolean;
}

export function persistState(spool: Spool, logger: Logger, msg: ActiveMessage, write: boolean): Promise<void> {
  const id = msg.record.id;
  msg.writes = msg.writes.then(async () => {
    if (msg.gone || (!write && endsInRemoval(msg.record))) return;
    if ((await spool.nextAttempt('active', id)) === undefined) {
      msg.gone = true;
      logger.info({ qid: id, event: 'removed' }, `${id}: removed (deleted by the operator)`);
      return;
    }
    if (write) await spool.writeRecord('active', msg.record);
  });
  return msg.writes.catch((err: unknown) => logger.error({ qid: id, err }, `${id}: cannot update queue file: ${String(err)}`));
}

export type PassEnd = { kind: 'done' } | { kind: 'deferred'; due: number } | { kind: 'retry'; dir: 'active' | 'deferred' | 'incoming'; due: number };

export async function finishPass(ctx: PassContext, msg: ActiveMessage, now: number): Promise<PassEnd> {
  const rec = msg.record;
  try {
    await msg.writes;
    if (msg.gone) return { kind: 'done' };
    const end = await endOfPass(ctx, rec, now);
    return end.kind === 'deferred' ? end : { kind: 'done' };
  } catch (err) {
    ctx.logger.error({ qid: rec.id, err }, `${rec.id}: queue file update failed, retrying later: ${String(err)}`);
    const dir = (await ctx.spool.locate(rec.id)) ?? 'active';
    return dir === 'active' || dir === 'deferred' || dir === 'incoming' ? { kind: 'retry', dir, due: now + ctx.settings.minBackoffMs } : { kind: 'done' };
  }
}
