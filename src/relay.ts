/**
 * Assembles a running relay from a frozen config and injected parts:
 * spool (opened, locked, recovered, scanned) -> inbound SMTP listening ->
 * scheduler driving the injected `Deliverer`.
 *
 * Contract:
 * - Nothing half-starts: if any step fails, what already started is stopped,
 *   the spool lock released, and the error rethrown.
 * - `stop({ graceMs })`: stop accepting, let in-flight deliveries finish
 *   within graceMs, close the deliverer; everything unfinished stays queued
 *   on disk. Idempotent.
 * - `reload(config, deliverer?)`: applies mynetworks, users, inbound limits, queue
 *   timing and concurrency, log level. `listen`, `spool` and `inbound.tls`
 *   need a restart (a warning is logged).
 * - `flush()`: every deferred message is due now.
 */
import type { Logger } from 'pino';
import type { RelayConfig } from './config/schema.ts';
import type { Deliverer } from './queue/deliverer.ts';
import { Spool } from './queue/spool.ts';
import { Scheduler, type SchedulerSettings } from './queue/scheduler.ts';
import { InboundServer } from './inbound/server.ts';

export interface RelayQueue {
  spool: Spool;
  scheduler: Scheduler;
}

export interface RelayHandle {
  addresses: Array<{ host: string; port: number }>;
  queue: RelayQueue;
  /**
   * Applies a new (already validated) config. With `deliverer`, new jobs use
   * it and the previous one is closed once its running deliveries finish.
   */
  reload(config: RelayConfig, deliverer?: Deliverer): void;
  stop(opts?: { graceMs?: number }): Promise<void>;
  flush(): void;
}

export interface RelayDeps {
  deliverer: Deliverer;
  logger: Logger;
  /** Injected clock for tests; default Date.now. */
  now?: () => number;
}

export function schedulerSettings(config: RelayConfig): SchedulerSettings {
  const q = config.queue;
  return {
    minBackoffMs: q.min_backoff,
    maxBackoffMs: q.max_backoff,
    maxLifetimeMs: q.max_lifetime,
    bounceLifetimeMs: q.bounce_lifetime,
    concurrency: q.concurrency,
    destinationConcurrency: q.destination_concurrency,
    scanIntervalMs: q.scan_interval,
    myhostname: config.myhostname,
    delayWarningMs: q.delay_warning_time,
    dsnMaxReturned: q.dsn_max_returned_size,
    honorTlsRequiredNo: config.tls.honor_tls_required_no,
  };
}

export async function startRelay(config: RelayConfig, deps: RelayDeps): Promise<RelayHandle> {
  const { logger } = deps;
  const spool = await Spool.open(config.spool);
  await spool.lock();
  let inbound: InboundServer | undefined;
  let scheduler: Scheduler | undefined;
  try {
    const moved = await spool.recover();
    if (moved.length > 0) logger.info({ event: 'recover', count: moved.length }, `recovered ${moved.length} message(s) from active/`);
    const sched = new Scheduler({ spool, deliverer: deps.deliverer, logger, settings: schedulerSettings(config), now: deps.now });
    scheduler = sched;
    inbound = new InboundServer({ config, spool, logger, queueDir: () => (sched.admitsAtOnce() ? 'active' : 'incoming'), onQueued: (id, hint, dir) => sched.notify(id, hint, dir), now: deps.now });
    const addresses = await inbound.listen();
    // New mail is accepted (and delivered) while the once-per-boot torn-file
    // check reads the backlog; the backlog is delivered only after it.
    for (const { id, reason } of await spool.setAsideTorn()) logger.error({ qid: id, event: 'corrupt', reason }, `${id}: corrupt queue file (${reason}), moved to corrupt/`);
    await sched.start();
    logger.info({ event: 'start', listen: addresses, spool: config.spool }, `daemon started -- listening on ${addresses.map((a) => `${a.host}:${a.port}`).join(', ')}`);
    return makeHandle(config, deps, { spool, scheduler: sched, inbound, addresses });
  } catch (err) {
    await inbound?.close(0).catch(() => undefined);
    await scheduler?.stop(0).catch(() => undefined);
    await spool.unlock().catch(() => undefined);
    throw err;
  }
}

interface Parts {
  spool: Spool;
  scheduler: Scheduler;
  inbound: InboundServer;
  addresses: Array<{ host: string; port: number }>;
}

function makeHandle(initial: RelayConfig, deps: RelayDeps, parts: Parts): RelayHandle {
  let current = initial;
  let stopping: Promise<void> | undefined;
  const { logger } = deps;
  const stop = async (graceMs: number): Promise<void> => {
    logger.info({ event: 'stop', graceMs }, 'terminating on signal or request');
    await Promise.all([parts.inbound.close(graceMs), parts.scheduler.stop(graceMs)]);
    await parts.scheduler.currentDeliverer.close().catch((err: unknown) => logger.warn({ err }, 'deliverer close failed'));
    await parts.spool.unlock();
    await parts.spool.close();
    logger.info({ event: 'stopped', waiting: parts.scheduler.stats() }, 'daemon stopped');
  };
  return {
    addresses: parts.addresses,
    queue: { spool: parts.spool, scheduler: parts.scheduler },
    reload(config, deliverer) {
      if (config.spool !== current.spool) logger.warn({ event: 'reload' }, 'a spool change takes effect after a restart');
      parts.inbound.reload(config);
      parts.scheduler.reload(schedulerSettings(config));
      logger.level = config.log.level;
      current = config;
      if (deliverer) {
        void parts.scheduler
          .replaceDeliverer(deliverer)
          .then((old) => old.close())
          .catch((err: unknown) => logger.warn({ err }, 'closing the previous deliverer failed'));
      }
      logger.info({ event: 'reload' }, 'reload -- configuration re-read');
    },
    stop(opts = {}) {
      stopping ??= stop(opts.graceMs ?? 10_000);
      return stopping;
    },
    flush() {
      parts.scheduler.flush();
    },
  };
}
