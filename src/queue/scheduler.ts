/**
 * The scheduler: timing and concurrency. It decides when a message's
 * delivery pass starts (delivery-pass.ts does the pass: activation, one job
 * per next-hop domain, outcomes written, bounce, removal or deferral) and
 * how many `Deliverer.deliver()` calls run, and retries with exponential
 * backoff (backoff.ts) until delivered, bounced or expired.
 *
 * Promises:
 * - A message handed over by `notify(id)` (inbound just stored it) is
 *   activated at once, not at the next scan; while `admitsAtOnce()`, inbound
 *   commits it straight into `active/` (no rename at activation).
 * - At most `concurrency` deliver() calls run at once, at most
 *   `destinationConcurrency` per domain.
 * - A pass's end says when the message is next due; waiting messages come
 *   from `notify`, `flush` and the spool scan (spool-scan.ts).
 * - `stop(graceMs)` starts no new work and waits up to graceMs for running
 *   deliveries; whatever is unfinished stays on disk (active/ goes back to
 *   incoming/ at the next start, spool.recover()).
 * Failure modes: a thrown deliver() defers the job with 4.3.0; the rest are the pass's.
 */
import type { Logger } from 'pino';
import type { Deliverer, DeliveryJob, RecipientOutcome } from './deliverer.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { NewMessageDir, Spool } from './spool.ts';
import { DelivererSlot } from './deliverer-slot.ts';
import { DeliveryPass, type DsnPolicy, type PassContext, type PassEnd, type QueuedHint } from './delivery-pass.ts';
import { FlushWatcher } from './flush-watcher.ts';
import { scanSpool } from './spool-scan.ts';
import { WaitingSet } from './waiting-set.ts';

export interface SchedulerSettings extends BackoffPolicy, DsnPolicy {
  concurrency: number;
  destinationConcurrency: number;
  scanIntervalMs: number;
  myhostname: string;
}

export interface SchedulerDeps {
  spool: Spool;
  deliverer: Deliverer;
  logger: Logger;
  settings: SchedulerSettings;
  /** Injected clock (ms since epoch); default Date.now. */
  now?: () => number;
  /** Messages held in memory for delivery at once; default 1000. */
  maxActiveMessages?: number;
  /** How often the flush trigger file is checked; default 1000 ms. */
  flushPollMs?: number;
}

export type { QueuedHint } from './delivery-pass.ts';

interface Waiting { dir: 'incoming' | 'deferred' | 'active'; due: number; hint?: QueuedHint }

interface Job {
  pass: DeliveryPass;
  job: DeliveryJob;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** Messages held in memory for delivery at once when `maxActiveMessages` is not given. */
const DEFAULT_ACTIVE_LIMIT = 1000;
/** Messages activated concurrently (rename + read each). */
const ACTIVATION_BATCH = 32;
/** Above this many waiting messages, a fresh message's content is not kept in memory. */
const HINT_BODY_WAITING_LIMIT = 256;

export class Scheduler {
  private settings: SchedulerSettings;
  private readonly now: () => number;
  private readonly waiting = new WaitingSet<Waiting>();
  private readonly active = new Map<string, DeliveryPass>();
  private readonly jobs: Job[] = [];
  private readonly perDomain = new Map<string, number>();
  private readonly tasks = new Set<Promise<void>>();
  private inFlight = 0;
  private activating = false;
  /** Ids taken from `waiting` whose activation has not finished yet. */
  private readonly moving = new Set<string>();
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private readonly flushWatcher: FlushWatcher;
  private idleWaiters: Array<() => void> = [];
  private readonly slot: DelivererSlot;

  constructor(private readonly deps: SchedulerDeps) {
    this.settings = deps.settings;
    this.slot = new DelivererSlot(deps.deliverer);
    this.now = deps.now ?? Date.now;
    this.flushWatcher = new FlushWatcher(deps.spool.flushTrigger, deps.flushPollMs ?? 1000, () => this.flush(), deps.logger);
  }

  /** Scans the spool (incoming + deferred) and starts working. */
  async start(): Promise<void> {
    await this.scan();
    this.flushWatcher.start();
    this.scanTimer = setInterval(() => this.track(this.scan()), this.settings.scanIntervalMs);
    this.pump();
  }

  /** Whether a message accepted now is taken into the active set at once (inbound then commits it into active/). */
  admitsAtOnce(): boolean {
    return !this.stopping && this.active.size + this.moving.size < (this.deps.maxActiveMessages ?? DEFAULT_ACTIVE_LIMIT);
  }

  /** A message was just stored in incoming/ (or in active/, after `admitsAtOnce()`): deliver it now. */
  notify(id: string, hint?: QueuedHint, dir: NewMessageDir = 'incoming'): void {
    // Bodies are kept only while few messages wait, so a backlog never holds content in memory.
    const keep = hint && (this.waiting.size < HINT_BODY_WAITING_LIMIT ? hint : { record: hint.record });
    this.waiting.set(id, { dir, due: this.now(), ...(keep ? { hint: keep } : {}) });
    this.pump();
  }

  /** Every waiting message becomes due now (`queue flush`); the spool is rescanned first so released or requeued messages count. */
  flush(): void {
    this.track(this.scan().then(() => {
      this.waiting.makeDue(this.now());
      this.deps.logger.info({ event: 'flush', waiting: this.waiting.size }, `flush: ${this.waiting.size} message(s) due now`);
      this.pump();
    }));
  }

  reload(settings: SchedulerSettings): void {
    const rescan = settings.scanIntervalMs !== this.settings.scanIntervalMs;
    this.settings = settings;
    if (rescan && this.scanTimer) {
      clearInterval(this.scanTimer);
      this.scanTimer = setInterval(() => this.track(this.scan()), settings.scanIntervalMs);
    }
    this.pump();
  }

  /** The deliverer new jobs use. */
  get currentDeliverer(): Deliverer {
    return this.slot.current;
  }

  /**
   * New jobs use `next`; resolves with the previous deliverer once none of
   * its deliver() calls is running (the caller then closes it).
   */
  replaceDeliverer(next: Deliverer): Promise<Deliverer> {
    return this.slot.replace(next);
  }

  /** Re-evaluates what is due (tests with an injected clock call this). */
  wake(): void {
    this.pump();
  }

  /** Resolves once nothing is being delivered and nothing is due. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  stats(): { waiting: number; active: number; inFlight: number; queuedJobs: number } {
    return { waiting: this.waiting.size, active: this.active.size, inFlight: this.inFlight, queuedJobs: this.jobs.length };
  }

  /** Starts nothing new; waits up to graceMs for running work. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearInterval(this.scanTimer);
    this.flushWatcher.stop();
    this.jobs.length = 0;
    let timeout: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timeout = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled([...this.tasks]), grace]);
    clearTimeout(timeout);
  }

  private track(p: Promise<void>): void {
    const t = p.catch((err: unknown) => this.deps.logger.error({ err }, 'scheduler: unexpected error')).finally(() => {
      this.tasks.delete(t);
      this.checkIdle();
    });
    this.tasks.add(t);
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const now = this.now();
    const due = (this.waiting.minDue() ?? Infinity) <= now;
    if (this.active.size === 0 && !due && !this.activating && this.tasks.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async scan(): Promise<void> {
    const before = new Set([...this.waiting.entries()].map(([id]) => id));
    const seen = await scanSpool(this.deps.spool, {
      known: (id) => this.waiting.has(id) || this.active.has(id) || this.moving.has(id),
      now: this.now,
      found: (id, dir, due) => this.waiting.set(id, { dir, due }),
      progress: () => this.pump(),
    });
    // Forget what left the spool meanwhile (deleted by the operator); not what inbound handed over during the scan.
    for (const [id, e] of [...this.waiting.entries()]) if (e.dir !== 'active' && !seen.has(id) && before.has(id)) this.waiting.delete(id);
    this.pump();
  }

  /** Activates due messages, dispatches jobs, re-arms the timer. */
  private pump(): void {
    if (this.stopping) return;
    if (!this.activating) this.track(this.activateDue());
    this.dispatch();
    this.arm();
    this.checkIdle();
  }

  private arm(): void {
    clearTimeout(this.timer);
    const next = this.waiting.minDue();
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - this.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.pump(), delay);
  }

  /**
   * Activates due messages, up to ACTIVATION_BATCH at a time: each is a
   * rename and a small read, and doing them one by one made disk latency the
   * relay's throughput limit.
   */
  private async activateDue(): Promise<void> {
    this.activating = true;
    try {
      const limit = this.deps.maxActiveMessages ?? DEFAULT_ACTIVE_LIMIT;
      while (!this.stopping) {
        const batch: Array<[string, Waiting]> = [];
        while (batch.length < ACTIVATION_BATCH && this.active.size + this.moving.size < limit) {
          const taken = this.waiting.takeDue(this.now());
          if (taken === undefined) break;
          this.moving.add(taken[0]);
          batch.push(taken);
        }
        if (batch.length === 0) break;
        await Promise.all(batch.map(async ([id, entry]) => {
          try {
            await this.activate(id, entry);
          } finally {
            this.moving.delete(id);
          }
          this.dispatch();
        }));
      }
    } finally {
      this.activating = false;
    }
    this.arm();
  }

  private readonly passContext = (): PassContext => ({
    spool: this.deps.spool, logger: this.deps.logger, settings: this.settings, notify: (id) => this.notify(id),
  });

  private async activate(id: string, entry: Waiting): Promise<void> {
    const pass = await DeliveryPass.open(this.passContext, id, entry.dir, entry.hint);
    if (!pass) return;
    this.active.set(pass.id, pass);
    const jobs = pass.jobs();
    for (const job of jobs) this.jobs.push({ pass, job });
    if (jobs.length === 0) this.track(pass.endEmpty(this.now()).then((end) => this.passEnded(pass, end)));
  }

  private dispatch(): void {
    for (let i = 0; i < this.jobs.length && !this.stopping && this.inFlight < this.settings.concurrency; ) {
      const job = this.jobs[i];
      if (job && (this.perDomain.get(job.job.domain) ?? 0) < this.settings.destinationConcurrency) {
        this.jobs.splice(i, 1);
        this.track(this.run(job));
      } else i++;
    }
  }

  private async run({ pass, job }: Job): Promise<void> {
    this.inFlight++;
    this.perDomain.set(job.domain, (this.perDomain.get(job.domain) ?? 0) + 1);
    let outcomes: RecipientOutcome[];
    try {
      outcomes = await this.slot.use((d) => d.deliver(job));
    } catch (err) {
      this.deps.logger.error({ qid: pass.id, err }, `${pass.id}: delivery engine error: ${String(err)}`);
      outcomes = job.recipients.map((recipient) => ({ recipient, status: 'deferred', dsn: '4.3.0', diagnostic: `internal error: ${(err as Error)?.message ?? String(err)}` }));
    } finally {
      this.inFlight--;
      const n = (this.perDomain.get(job.domain) ?? 1) - 1;
      if (n > 0) this.perDomain.set(job.domain, n);
      else this.perDomain.delete(job.domain);
    }
    const end = await pass.complete(job, outcomes, this.now());
    if (end) this.passEnded(pass, end);
    this.pump();
  }

  /** The pass is over (delivery-pass.ts): the message waits for its next attempt, or is done. */
  private passEnded(pass: DeliveryPass, end: PassEnd): void {
    if (end.kind !== 'done') this.waiting.set(pass.id, { dir: end.kind === 'deferred' ? 'deferred' : end.dir, due: end.due });
    this.active.delete(pass.id);
  }
}
