/**
 * One delivery pass over one message, from activation to the record written
 * and the file moved or removed. The scheduler (scheduler.ts) only decides
 * when a pass starts and how many jobs run; everything a pass does to the
 * message and its queue file is here (Postfix: qmgr's `qmgr_active.c`).
 *
 * Contract:
 * - `DeliveryPass.open`: the message moves into `active/` (unless inbound
 *   committed it there) and its record is loaded (the one inbound just
 *   wrote may be given: it is what is on disk).
 *   A queue file that cannot be parsed goes to `corrupt/`, logged; a message
 *   gone meanwhile (deleted by the operator) yields undefined. The attempt
 *   counter is raised. Never throws for these cases.
 * - `jobs()`: the undelivered recipients (`isUndelivered`) by next-hop domain,
 *   one `DeliveryJob` each.
 * - `complete(job, outcomes)`: records one job's outcomes (a recipient the
 *   engine gave no outcome is deferred 4.3.0; a deferral past the maximal
 *   queue lifetime becomes an expired bounce, backoff.ts). Writes are
 *   serialised per message, so the newest state wins on disk; a queue file
 *   deleted by the operator meanwhile is marked gone and never written again.
 *   After the last job it ends the pass and returns its `PassEnd`, else null.
 * - End of a pass: recipients bounced in it get ONE failure DSN (bounce.ts),
 *   queued durably BEFORE they are marked reported (a crash may repeat a
 *   bounce, never lose one); a null-sender message never gets one, nor does
 *   a recipient whose NOTIFY excludes FAILURE (NEVER, core/dsn-notify).
 *   Likewise one `relayed` DSN for recipients sent to a next hop without DSN
 *   that asked NOTIFY=SUCCESS (RFC 3461 §5.2.2), and one `delayed` DSN for
 *   recipients still undelivered after `delayWarningMs` (NOTIFY=DELAY or no
 *   NOTIFY; once per recipient, `delayWarned`). Then the message
 *   is removed when every recipient is final, else rewritten, moved to
 *   `deferred/` with its file mtime set to the next attempt. An I/O error is
 *   logged and gives `retry` with the directory the file is in.
 */
import type { Logger } from 'pino';
import { logQueueOutcome } from '../log/queue-events.ts';
import type { DeliveryJob, RecipientOutcome } from './deliverer.ts';
import { backoffDelay, isExpired, type BackoffPolicy } from './backoff.ts';
import { queueDsn } from './bounce.ts';
import { delayDsnDue, originalRecipientOf, relayedDsnDue, wantsFailureDsn, type DsnKind } from '../core/dsn-notify.ts';
import { domainOf, isUndelivered, type QueueRecord, type RecipientState } from './record.ts';
import type { Spool } from './spool.ts';

/** What the DSN decisions of a pass need (RFC 3461/3464, RFC 8689 §5). */
export interface DsnPolicy {
  /** Postfix delay_warning_time (ms); 0 or absent: no delay warnings. */
  delayWarningMs?: number;
  /** Postfix bounce_size_limit: RET=FULL returns at most this many bytes; default 50000. */
  dsnMaxReturned?: number;
  /** `tls.honor_tls_required_no`: act on a `TLS-Required: No` header. */
  honorTlsRequiredNo?: boolean;
}

export interface PassContext {
  spool: Spool;
  logger: Logger;
  settings: BackoffPolicy & DsnPolicy & { myhostname: string };
  /** Hands a newly queued DSN to the scheduler. */
  notify: (id: string) => void;
}

/**
 * What inbound just wrote durably: the record and, for small messages, the
 * content. Lets a fresh message be activated and delivered without reading
 * back its files; after a restart everything comes from disk as before.
 */
export interface QueuedHint {
  record: QueueRecord;
  body?: Buffer;
}

export type PassEnd = { kind: 'done' } | { kind: 'deferred'; due: number } | { kind: 'retry'; dir: 'active' | 'deferred' | 'incoming'; due: number };

async function activate(ctx: PassContext, id: string, from: 'incoming' | 'deferred' | 'active', known?: QueueRecord): Promise<QueueRecord | undefined> {
  const { spool, logger } = ctx;
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
    logger.error({ qid: id, event: 'corrupt', reason: read.reason }, `${id}: corrupt queue file (${read.reason}), moved to corrupt/`);
    await spool.move(id, 'active', 'corrupt').catch(() => undefined);
    return undefined;
  }
  return read.record;
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
  // RFC 3461 §5.2.2: NOTIFY=SUCCESS relayed to a hop without DSN: we report `relayed`.
  if (o.status === 'sent' && relayedDsnDue(state.notify, o.hopOffersDsn === true)) state.action = 'relayed';
  if (o.status === 'deferred' && isExpired(policy, rec.sender, rec.receivedAt, now)) {
    state.status = 'bounced';
    state.expired = true;
  }
}

/** True when the end of the pass would only remove the message: every recipient final, no bounce left to send. */
function endsInRemoval(rec: QueueRecord): boolean {
  return rec.recipients.every((r) => !isUndelivered(r) && !((r.status === 'bounced' || r.action === 'relayed') && !r.reported));
}

export class DeliveryPass {
  private jobsLeft = 0;
  private writes: Promise<void> = Promise.resolve();
  private gone = false;

  private constructor(private readonly ctx: () => PassContext, readonly record: QueueRecord, private readonly body?: Buffer) {}

  /** `ctx` is read at each step: a reload's settings apply to passes already running. */
  static async open(ctx: () => PassContext, id: string, from: 'incoming' | 'deferred' | 'active', hint?: QueuedHint): Promise<DeliveryPass | undefined> {
    const record = await activate(ctx(), id, from, hint?.record);
    if (!record) return undefined;
    record.attempts += 1;
    return new DeliveryPass(ctx, record, hint?.body);
  }

  get id(): string { return this.record.id; }

  /** This pass's jobs: undelivered recipients by lower-case next-hop domain. */
  jobs(): DeliveryJob[] {
    const groups = new Map<string, string[]>();
    for (const r of this.record.recipients) {
      if (!isUndelivered(r)) continue;
      const d = domainOf(r.address);
      groups.set(d, [...(groups.get(d) ?? []), r.address]);
    }
    this.jobsLeft = groups.size;
    return [...groups].map(([domain, recipients]) => this.jobOf(domain, recipients));
  }

  private jobOf(domain: string, recipients: string[]): DeliveryJob {
    const r = this.record; const body = this.body; const { spool, settings } = this.ctx();
    const recipientDsn: NonNullable<DeliveryJob['recipientDsn']> = {};
    for (const st of r.recipients) {
      if (!recipients.includes(st.address)) continue;
      // Postfix passes ORCPT on for every recipient: the client's, else rfc822;<recipient>.
      const orcpt = originalRecipientOf(st.address, st.orcpt);
      recipientDsn[st.address] = { ...(st.notify ? { notify: st.notify } : {}), ...(orcpt !== undefined ? { orcpt } : {}) };
    }
    const dsn = { ...(r.ret ? { ret: r.ret } : {}), ...(r.envid !== undefined ? { envid: r.envid } : {}) };
    return {
      queueId: r.id, sender: r.sender, domain, recipients: [...recipients], size: r.size, smtputf8: r.smtputf8, eightBit: r.eightBit,
      receivedAt: r.receivedAt, attempt: r.attempts, openBody: () => body ?? spool.openContent('active', r.id, r.size),
      ...(body ? {} : { contentFile: spool.path('active', r.id) }),
      ...(Object.keys(dsn).length > 0 ? { dsn } : {}), ...(Object.keys(recipientDsn).length > 0 ? { recipientDsn } : {}),
      ...(r.requireTls ? { requireTls: true } : {}),
      // RFC 8689 §4.1: REQUIRETLS wins over the header; the header counts only when the operator allows it.
      ...(!r.requireTls && r.tlsRequiredNo && settings.honorTlsRequiredNo ? { tlsOptional: true } : {}),
    };
  }

  /** Records one job's outcomes; after the last job, ends the pass. */
  async complete(job: DeliveryJob, outcomes: RecipientOutcome[], now: number): Promise<PassEnd | null> {
    this.apply(job.recipients, outcomes, now);
    this.jobsLeft--;
    // The last job's state is written by the end of the pass (removal, or the deferred record).
    await this.persist(this.jobsLeft > 0);
    return this.jobsLeft > 0 ? null : this.end(now);
  }

  /** A pass with no job (nothing undelivered): straight to its end. */
  endEmpty(now: number): Promise<PassEnd> {
    return this.end(now);
  }

  private apply(recipients: string[], outcomes: RecipientOutcome[], now: number): void {
    const { logger, settings } = this.ctx();
    const byRcpt = new Map(outcomes.map((o) => [o.recipient, o]));
    for (const address of recipients) {
      const state = this.record.recipients.find((r) => r.address === address && isUndelivered(r));
      if (!state) continue;
      const given = byRcpt.get(address);
      const o = given ?? { recipient: address, status: 'deferred', dsn: '4.3.0', diagnostic: 'delivery engine returned no outcome for this recipient' };
      recordOutcome(state, o, this.record, now, settings);
      // The engine already logged its own outcome; the queue adds only what it alone knows.
      if (!given || state.expired) logQueueOutcome(logger, this.record, state, now);
    }
  }

  private persist(write: boolean): Promise<void> {
    const { spool, logger } = this.ctx();
    const id = this.id;
    this.writes = this.writes.then(async () => {
      if (this.gone || (!write && endsInRemoval(this.record))) return;
      if ((await spool.nextAttempt('active', id)) === undefined) {
        this.gone = true;
        logger.info({ qid: id, event: 'removed' }, `${id}: removed (deleted by the operator)`);
        return;
      }
      if (write) await spool.writeRecord('active', this.record);
    });
    return this.writes.catch((err: unknown) => logger.error({ qid: id, err }, `${id}: cannot update queue file: ${String(err)}`));
  }

  private async end(now: number): Promise<PassEnd> {
    const ctx = this.ctx();
    try {
      await this.writes;
      if (this.gone) return { kind: 'done' };
      await this.bounce(ctx, now);
      return await this.removeOrDefer(ctx, now);
    } catch (err) {
      ctx.logger.error({ qid: this.id, err }, `${this.id}: queue file update failed, retrying later: ${String(err)}`);
      const dir = (await ctx.spool.locate(this.id)) ?? 'active';
      return dir === 'active' || dir === 'deferred' || dir === 'incoming' ? { kind: 'retry', dir, due: now + ctx.settings.minBackoffMs } : { kind: 'done' };
    }
  }

  /** The DSNs this pass owes (failed, relayed, delayed), each queued before the record says so. */
  private async bounce(ctx: PassContext, now: number): Promise<void> {
    const rec = this.record;
    const fresh = rec.recipients.filter((r) => r.status === 'bounced' && !r.reported);
    const relayed = rec.recipients.filter((r) => r.status === 'sent' && r.action === 'relayed' && !r.reported);
    const delayMs = ctx.settings.delayWarningMs ?? 0;
    const delayed = rec.recipients.filter((r) => delayDsnDue({ notify: r.notify, undelivered: r.status === 'deferred', warned: r.delayWarned === true, receivedAt: rec.receivedAt, now, delayWarningMs: delayMs }));
    if (fresh.length + relayed.length + delayed.length === 0) return;
    if (rec.sender === '') {
      if (fresh.length > 0) ctx.logger.info({ qid: rec.id, event: 'bounce-discarded' }, `${rec.id}: undeliverable bounce discarded (null sender: no bounce for a bounce)`);
    } else {
      const failed = fresh.filter((r) => wantsFailureDsn(r.notify));
      if (failed.length < fresh.length) ctx.logger.info({ qid: rec.id, event: 'dsn-suppressed', rcpts: fresh.filter((r) => !failed.includes(r)).map((r) => r.address) }, `${rec.id}: no failure notification: NOTIFY=NEVER or without FAILURE`);
      await this.sendDsn(ctx, 'failed', failed, now);
      await this.sendDsn(ctx, 'relayed', relayed, now);
      await this.sendDsn(ctx, 'delayed', delayed, now);
    }
    for (const r of [...fresh, ...relayed]) r.reported = true;
    for (const r of delayed) r.delayWarned = true;
    await ctx.spool.writeRecord('active', rec);
  }

  private async sendDsn(ctx: PassContext, kind: DsnKind, recipients: RecipientState[], now: number): Promise<void> {
    if (recipients.length === 0) return;
    const rec = this.record;
    const retryUntil = kind === 'delayed' ? rec.receivedAt + ctx.settings.maxLifetimeMs : undefined;
    const id = await queueDsn(ctx.spool, rec, recipients, kind, { reportingMta: ctx.settings.myhostname, now, maxReturned: ctx.settings.dsnMaxReturned ?? 50_000, ...(retryUntil !== undefined ? { retryUntil } : {}) });
    const what = kind === 'failed' ? 'sender non-delivery notification' : kind === 'delayed' ? 'sender delay notification' : 'sender delivery status notification';
    ctx.logger.info({ qid: rec.id, event: kind === 'failed' ? 'bounce' : `dsn-${kind}`, dsnQid: id }, `${rec.id}: ${what}: ${id}`);
    ctx.notify(id);
  }

  private async removeOrDefer(ctx: PassContext, now: number): Promise<PassEnd> {
    const rec = this.record;
    if (!rec.recipients.some(isUndelivered)) {
      await ctx.spool.remove(rec.id, 'active', rec.size);
      ctx.logger.info({ qid: rec.id, event: 'removed' }, `${rec.id}: removed`);
      return { kind: 'done' };
    }
    const due = now + backoffDelay(ctx.settings, rec.attempts);
    rec.nextAttemptAt = due;
    for (const r of rec.recipients) if (r.status === 'deferred') r.nextAttemptAt = due;
    await ctx.spool.writeRecord('active', rec);
    await ctx.spool.move(rec.id, 'active', 'deferred');
    await ctx.spool.setNextAttempt('deferred', rec.id, due);
    return { kind: 'deferred', due };
  }
}
