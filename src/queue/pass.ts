/**
 * One delivery pass over a message, the parts that decide rather than
 * schedule: grouping recipients by next-hop domain, recording outcomes
 * (with expiry, backoff.ts), and the end of a pass (bounce, then remove
 * or defer). Used by scheduler.ts.
 *
 * Contract of `endOfPass`: recipients bounced in this pass get ONE DSN,
 * queued (durably) BEFORE they are marked reported, so a crash may repeat a
 * bounce but never lose one; a null-sender message never gets a DSN (no
 * bounce for a bounce; logged instead). Then the message is removed when no
 * recipient is left, else rewritten, moved to deferred/ and its file mtime
 * set to the next attempt. I/O errors are thrown to the scheduler.
 */
import type { Logger } from 'pino';
import type { DeliveryJob, RecipientOutcome } from './deliverer.ts';
import { backoffDelay, isExpired, type BackoffPolicy } from './backoff.ts';
import { queueBounce } from './bounce.ts';
import { logOutcome } from './outcome-log.ts';
import { domainOf, type QueueRecord, type RecipientState } from './record.ts';
import type { Spool } from './spool.ts';

/** Undelivered (pending or deferred) recipients by lower-case domain. */
export function groupByDomain(record: QueueRecord): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of record.recipients) {
    if (r.status !== 'pending' && r.status !== 'deferred') continue;
    const d = domainOf(r.address);
    groups.set(d, [...(groups.get(d) ?? []), r.address]);
  }
  return groups;
}

/** `body`: the content when still in memory (small, fresh messages); else it is read from the spool. */
export function toDeliveryJob(r: QueueRecord, domain: string, recipients: string[], spool: Spool, body?: Buffer): DeliveryJob {
  return {
    queueId: r.id,
    sender: r.sender,
    domain,
    recipients: [...recipients],
    size: r.size,
    smtputf8: r.smtputf8,
    eightBit: r.eightBit,
    receivedAt: r.receivedAt,
    attempt: r.attempts,
    openBody: () => body ?? spool.openContent('active', r.id, r.size),
  };
}

function recordOutcome(state: RecipientState, o: RecipientOutcome, rec: QueueRecord, now: number, policy: BackoffPolicy): void {
  state.attempts += 1;
  state.lastAttemptAt = now;
  state.status = o.status;
  state.dsn = o.dsn;
  state.diagnostic = o.diagnostic;
  if (o.relay !== undefined) state.relay = o.relay;
  else delete state.relay;
  if (o.remoteReply !== undefined) state.remoteReply = o.remoteReply;
  else delete state.remoteReply;
  if (o.status === 'deferred' && isExpired(policy, rec.sender, rec.receivedAt, now)) {
    state.status = 'bounced';
    state.expired = true;
  }
}

/** Records the outcomes of one group; a recipient without an outcome is deferred 4.3.0. */
export function applyOutcomes(rec: QueueRecord, recipients: string[], outcomes: RecipientOutcome[], now: number, policy: BackoffPolicy, logger: Logger): void {
  const byRcpt = new Map(outcomes.map((o) => [o.recipient, o]));
  for (const address of recipients) {
    const state = rec.recipients.find((r) => r.address === address && (r.status === 'pending' || r.status === 'deferred'));
    if (!state) continue;
    const given = byRcpt.get(address);
    const o = given ?? { recipient: address, status: 'deferred', dsn: '4.3.0', diagnostic: 'delivery engine returned no outcome for this recipient' };
    recordOutcome(state, o, rec, now, policy);
    // The engine already logged its own outcome; the queue adds only what it alone knows.
    if (!given || state.expired) logOutcome(logger, rec, state, now);
  }
}

export interface PassContext {
  spool: Spool;
  logger: Logger;
  settings: BackoffPolicy & { myhostname: string };
  /** Hands a newly queued DSN to the scheduler. */
  notify: (id: string) => void;
}

async function bounce(ctx: PassContext, rec: QueueRecord, now: number): Promise<void> {
  const fresh = rec.recipients.filter((r) => r.status === 'bounced' && !r.reported);
  if (fresh.length === 0) return;
  if (rec.sender === '') {
    ctx.logger.info({ qid: rec.id, event: 'bounce-discarded' }, `${rec.id}: undeliverable bounce discarded (null sender: no bounce for a bounce)`);
  } else {
    const dsnId = await queueBounce(ctx.spool, rec, fresh, ctx.settings.myhostname, now);
    ctx.logger.info({ qid: rec.id, event: 'bounce', dsnQid: dsnId }, `${rec.id}: sender non-delivery notification: ${dsnId}`);
    ctx.notify(dsnId);
  }
  for (const r of fresh) r.reported = true;
  await ctx.spool.writeRecord('active', rec);
}

/** True when endOfPass would only remove the message: every recipient final and no bounce left to send. */
export function endsInRemoval(rec: QueueRecord): boolean {
  return rec.recipients.every((r) => r.status !== 'pending' && r.status !== 'deferred' && !(r.status === 'bounced' && !r.reported));
}

export async function endOfPass(ctx: PassContext, rec: QueueRecord, now: number): Promise<{ kind: 'removed' } | { kind: 'deferred'; due: number }> {
  await bounce(ctx, rec, now);
  if (!rec.recipients.some((r) => r.status === 'pending' || r.status === 'deferred')) {
    await ctx.spool.remove(rec.id, 'active');
    ctx.logger.info({ qid: rec.id, event: 'removed' }, `${rec.id}: removed`);
    return { kind: 'removed' };
  }
  const due = now + backoffDelay(ctx.settings, rec.attempts);
  rec.nextAttemptAt = due;
  for (const r of rec.recipients) if (r.status === 'deferred') r.nextAttemptAt = due;
  await ctx.spool.writeRecord('active', rec);
  await ctx.spool.move(rec.id, 'active', 'deferred');
  await ctx.spool.setNextAttempt('deferred', rec.id, due);
  return { kind: 'deferred', due };
}
