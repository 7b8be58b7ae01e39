/**
 * The delivery engine in its own thread. A `DeliveryThread` is one worker
 * thread (delivery-worker.ts) holding the relay's DNS client and the
 * engines of create-deliverer.ts built in it; `engine(config)` gives the
 * queue's `Deliverer` (src/queue/deliverer.ts) for one of them. The main
 * thread keeps the SMTP listener, the spool and the scheduler; DNS, TLS and
 * the SMTP client run beside it, on the machine's other core, as Postfix
 * runs smtpd and smtp in separate processes (issue 15: one event loop doing
 * both was the relay's ceiling, and greetings waited behind outbound TLS
 * work). `delivery.engine_thread: false` keeps everything in one thread.
 *
 * Contract:
 * - `engine(config)` resolves once the thread (started at the first call)
 *   has built an engine from `config`; it rejects with the thread's reason
 *   when that fails (an unreadable `tls.ca_file`, say), so start-up and
 *   reload fail as the in-thread engine would. Engines share the thread's
 *   DNS client and cache (built from the first config: `dns.*` changes
 *   need a restart, as without the thread) and its logger (the same
 *   files; a reload's engine sets the level).
 * - `deliver(job)`: the job crosses as data. A body held in memory is copied
 *   once and moved (transferred); a body on disk crosses as the queue
 *   file's path (`job.contentFile`) and is read by the thread. Resolves
 *   with the engine's outcomes; rejects when the engine threw or the thread
 *   died with the job in flight, which the scheduler treats as a bug:
 *   every recipient of the job is deferred (4.3.0), nothing is lost and
 *   nothing is sent in plaintext.
 * - A thread that dies (out of memory; an escaped exception when the
 *   last-resort handlers are not installed) is logged as an internal error;
 *   the next job starts a new one with the engines still open. The relay
 *   goes on. With `lastResort` (the `serve` command) the thread logs an
 *   escaped exception and keeps running, as the main thread does.
 * - `close()` of an engine QUITs its pooled sessions; when the last open
 *   engine is closed the thread closes its DNS client, flushes its log and
 *   ends (bounded by `closeTimeoutMs`, then terminated).
 * - `observe`: given, every log event of the thread reaches it (metrics are
 *   read from log events) and `dnsStats()` reports the thread's DNS client.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import type { DnsClientStats } from '../dns/client.ts';
import type { Deliverer, DeliveryJob, RecipientOutcome } from '../queue/deliverer.ts';

/** A job as it crosses to the thread: data only. */
export type WireJob = Omit<DeliveryJob, 'openBody'> & { body?: Uint8Array };

export type ToWorker =
  | { type: 'engine'; id: number; config: RelayConfig }
  | { type: 'close-engine'; id: number }
  | { type: 'reopen-log' }
  | { type: 'deliver'; seq: number; engine: number; job: WireJob };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'engine-ready'; id: number }
  | { type: 'engine-failed'; id: number; message: string }
  | { type: 'engine-closed'; id: number; last: boolean }
  | { type: 'result'; seq: number; outcomes: RecipientOutcome[]; dns?: DnsClientStats }
  | { type: 'error'; seq: number; message: string }
  | { type: 'observe'; fields: Record<string, unknown> };

export interface DeliveryThreadDeps {
  logger: Logger;
  observe?: (fields: Record<string, unknown>) => void;
  /** The thread installs the `serve` command's last-resort handlers (src/log/last-resort.ts), as the main thread does. */
  lastResort?: boolean;
  closeTimeoutMs?: number;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

const OWN_FILE = fileURLToPath(import.meta.url);
const WORKER_URL = new URL(`./delivery-worker${extname(OWN_FILE)}`, import.meta.url);

/**
 * The thread's young generation (V8 lets it grow to 48 MB, i.e. 16 MB
 * semi-spaces): 12 MB keeps the thread's share of the relay's memory small
 * (issue 15's closing note has the figures).
 */
const YOUNG_GENERATION_MB = 12;

/** Starts a worker on delivery-worker; from the TypeScript sources (development), through tsx's loader. */
function spawnWorker(config: RelayConfig, observe: boolean, lastResort: boolean): Worker {
  const options = { workerData: { config, observe, lastResort }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } };
  if (extname(OWN_FILE) !== '.ts') return new Worker(WORKER_URL, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** The job as data: an in-memory body copied into its own buffer (to be transferred), else the file's path. */
function wireJob(job: DeliveryJob): { job: WireJob; transfer: ArrayBuffer[] } {
  const { openBody, ...data } = job;
  if (data.contentFile !== undefined) return { job: data, transfer: [] };
  const body = openBody();
  if (!Buffer.isBuffer(body)) {
    body.destroy();
    throw new Error(`message ${job.queueId}: a body stream without contentFile cannot cross to the delivery thread`);
  }
  const copy = new Uint8Array(body);
  return { job: { ...data, body: copy }, transfer: [copy.buffer as ArrayBuffer] };
}

export class DeliveryThread {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  /** Open engines by id, with their config: rebuilt in a new thread after one died. */
  private readonly engines = new Map<number, RelayConfig>();
  private readonly jobs = new Map<number, Waiter<RecipientOutcome[]>>();
  private readonly replies = new Map<string, Waiter<void>>();
  private engineSeq = 0;
  private jobSeq = 0;
  private lastDns: DnsClientStats | undefined;

  constructor(private readonly first: RelayConfig, private readonly deps: DeliveryThreadDeps) {}

  /** An engine built in the thread from `config` (see the module header). */
  async engine(config: RelayConfig): Promise<Deliverer> {
    const id = ++this.engineSeq;
    const worker = await this.ready();
    await this.ask(worker, { type: 'engine', id, config }, `engine:${id}`);
    this.engines.set(id, config);
    return { deliver: (job) => this.deliver(id, job), close: () => this.closeEngine(id) };
  }

  /** Ends the thread whatever engines are open (a start-up that failed after the thread started). */
  async end(): Promise<void> {
    this.engines.clear();
    const w = this.worker ?? (await this.starting?.catch(() => undefined));
    await w?.terminate();
  }

  /**
   * Has the thread reopen its log files by name, as the listener's thread does on SIGHUP
   * (logrotate renamed them); a thread that starts later opens them by name anyway.
   */
  reopenLog(): void {
    this.worker?.postMessage({ type: 'reopen-log' } satisfies ToWorker);
  }

  /** The thread's DNS client counters, as of its last reply (with `observe` only). */
  dnsStats(): DnsClientStats | undefined {
    return this.lastDns;
  }

  private ready(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= this.start().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async start(): Promise<Worker> {
    const w = spawnWorker(this.first, this.deps.observe !== undefined, this.deps.lastResort === true);
    await new Promise<void>((resolve, reject) => {
      this.replies.set('ready', { resolve, reject });
      w.on('message', (m: FromWorker) => this.onMessage(m));
      w.on('error', (err) => this.deps.logger.error({ event: 'internal-error', kind: 'delivery-thread', err }, `warning: delivery thread failed: ${err.message}`));
      w.on('exit', (code) => this.onExit(w, code));
    });
    // A thread that replaces a dead one rebuilds the engines still open.
    for (const [id, config] of this.engines) await this.ask(w, { type: 'engine', id, config }, `engine:${id}`);
    this.worker = w;
    return w;
  }

  private ask(w: Worker, m: ToWorker, key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.replies.set(key, { resolve, reject });
      w.postMessage(m);
    });
  }

  private settle(key: string, err?: Error): void {
    const waiter = this.replies.get(key);
    this.replies.delete(key);
    if (err) waiter?.reject(err);
    else waiter?.resolve();
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'observe': this.deps.observe?.(m.fields); return;
      case 'ready': this.settle('ready'); return;
      case 'failed': this.settle('ready', new Error(m.message)); return;
      case 'engine-ready': this.settle(`engine:${m.id}`); return;
      case 'engine-failed': this.settle(`engine:${m.id}`, new Error(m.message)); return;
      case 'engine-closed': this.settle(`close:${m.id}`); return;
      case 'result':
      case 'error': {
        const job = this.jobs.get(m.seq);
        this.jobs.delete(m.seq);
        if (m.type === 'result') {
          if (m.dns) this.lastDns = m.dns;
          job?.resolve(m.outcomes);
        } else job?.reject(new Error(`delivery engine error: ${m.message}`));
      }
    }
  }

  private onExit(w: Worker, code: number): void {
    if (this.worker === w) this.worker = undefined;
    const reason = `delivery thread exited (code ${code})`;
    // The cause was logged (and counted) by the 'error' event; this says what it cost.
    if (this.jobs.size > 0) this.deps.logger.error({ event: 'delivery-thread-exit', code, jobs: this.jobs.size }, `warning: ${reason}; ${this.jobs.size} delivery job(s) deferred`);
    for (const job of this.jobs.values()) job.reject(new Error(reason));
    this.jobs.clear();
    for (const waiter of this.replies.values()) waiter.reject(new Error(reason));
    this.replies.clear();
  }

  private async deliver(engine: number, job: DeliveryJob): Promise<RecipientOutcome[]> {
    if (!this.engines.has(engine)) throw new Error('delivery engine is closed');
    const worker = await this.ready();
    const { job: data, transfer } = wireJob(job);
    const seq = ++this.jobSeq;
    return new Promise((resolve, reject) => {
      this.jobs.set(seq, { resolve, reject });
      try {
        worker.postMessage({ type: 'deliver', seq, engine, job: data } satisfies ToWorker, transfer);
      } catch (err) {
        this.jobs.delete(seq);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private async closeEngine(id: number): Promise<void> {
    if (!this.engines.delete(id)) return;
    const w = this.worker ?? (await this.starting?.catch(() => undefined));
    if (!w) return;
    const last = this.engines.size === 0;
    const ended = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.deps.closeTimeoutMs ?? 10_000); });
    // The last engine's close ends the thread: wait for its exit (it flushes its log first).
    await Promise.race([Promise.all([this.ask(w, { type: 'close-engine', id }, `close:${id}`).catch(() => undefined), last ? ended : undefined]), bound]);
    clearTimeout(timer);
    if (last && this.engines.size === 0) await w.terminate();
  }
}
