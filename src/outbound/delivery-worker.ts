/**
 * The delivery thread's entry point (worker_threads), started and spoken to
 * only by delivery-thread.ts (messages `ToWorker` / `FromWorker` there).
 * It holds the relay's DNS client (built from `workerData.config`), a logger
 * on the same destinations as the main thread (pino writes whole lines,
 * appended), and the delivery engines of create-deliverer.ts built from the
 * configs it is sent: route, TLSA and policy decisions, TLS, the SMTP
 * session pool, MTA-STS and TLSRPT all run here.
 *
 * Contract:
 * - Start: posts `ready`, or `failed` with the reason and ends.
 * - `engine`: builds one (sharing the DNS client), sets the log level from
 *   its config, posts `engine-ready` or `engine-failed` with the reason.
 * - `deliver`: runs the engine's `deliver` for the job (the body comes in
 *   the message, or is read from the queue file named by `contentFile`);
 *   posts `result` with the outcomes (and, with `observe`, the DNS
 *   client's counters), or `error` when the engine threw.
 * - `close-engine`: closes it (QUIT to its pooled sessions); after the last
 *   one, closes the DNS client, flushes the log, posts `engine-closed` and
 *   ends.
 * - `reopen-log`: reopens its log files by name (SIGHUP after logrotate:
 *   without it, this thread's lines, the deliveries, kept going to the
 *   renamed file).
 * - With `workerData.lastResort`, the `serve` command's last-resort
 *   handlers log an escaped exception and the thread goes on.
 * - With `workerData.observe`, every log event object is also posted as
 *   `observe` (the main thread's metrics are read from log events).
 * Failure modes: an exception that escapes ends the thread; the main
 * thread sees the exit, defers what was in flight and starts a new one.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import type { RelayConfig } from '../config/schema.ts';
import type { DnsClient } from '../dns/index.ts';
import { createLogger, reopenLogFile } from '../log/logger.ts';
import { installLastResortHandlers } from '../log/last-resort.ts';
import type { Deliverer, DeliveryJob } from '../queue/deliverer.ts';
import { buildDnsClient } from '../dns/from-config.ts';
import { createDeliverer } from './create-deliverer.ts';
import type { FromWorker, ToWorker, WireJob } from './delivery-thread.ts';

if (!parentPort) throw new Error('delivery-worker runs only as a worker thread');
const port = parentPort;
const { config, observe, lastResort } = workerData as { config: RelayConfig; observe: boolean; lastResort: boolean };
const post = (m: FromWorker): void => port.postMessage(m);

/**
 * Forwards a log event to the main thread's metrics. postMessage clones it once; only an event that
 * cannot be cloned (an `err` holding a function, say) is sent as its JSON form instead.
 */
function forward(fields: Record<string, unknown>): void {
  try {
    post({ type: 'observe', fields });
  } catch {
    post({ type: 'observe', fields: JSON.parse(JSON.stringify(fields)) as Record<string, unknown> });
  }
}

const logger = createLogger(config.log, undefined, observe ? forward : undefined, config.myhostname);
if (lastResort) installLastResortHandlers(logger);
const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Writes out what the log destinations still buffer (bounded: a stuck destination does not hold the end). */
function flushLog(): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, 1000).unref();
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}

function jobOf(w: WireJob): DeliveryJob {
  const { body, contentFile, ...rest } = w;
  const openBody = (): Readable | Buffer => {
    if (body) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (contentFile === undefined || w.size <= 0) return Readable.from([]);
    return createReadStream(contentFile, { start: 0, end: w.size - 1 });
  };
  return { ...rest, openBody };
}

function serve(dns: DnsClient): void {
  const engines = new Map<number, Deliverer>();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'deliver') {
      const engine = engines.get(m.engine);
      if (!engine) return post({ type: 'error', seq: m.seq, message: `engine ${m.engine} is not open` });
      engine.deliver(jobOf(m.job)).then(
        (outcomes) => post({ type: 'result', seq: m.seq, outcomes, ...(observe ? { dns: dns.stats() } : {}) }),
        (err: unknown) => post({ type: 'error', seq: m.seq, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
    } else if (m.type === 'engine') {
      createDeliverer(m.config, { logger, dns }).then(
        (engine) => {
          engines.set(m.id, engine);
          logger.level = m.config.log.level;
          post({ type: 'engine-ready', id: m.id });
        },
        (err: unknown) => post({ type: 'engine-failed', id: m.id, message: reason(err) }),
      );
    } else if (m.type === 'reopen-log') {
      reopenLogFile(logger);
    } else if (m.type === 'close-engine') {
      const engine = engines.get(m.id);
      engines.delete(m.id);
      const last = engines.size === 0;
      void (engine?.close() ?? Promise.resolve()).catch(() => undefined).then(async () => {
        if (last) {
          await dns.close().catch(() => undefined);
          await flushLog();
        }
        post({ type: 'engine-closed', id: m.id, last });
        if (last) port.close();
      });
    }
  });
}

buildDnsClient(config).then(
  (dns) => {
    serve(dns);
    post({ type: 'ready' });
  },
  async (err: unknown) => {
    post({ type: 'failed', message: reason(err) });
    await flushLog();
    port.close();
  },
);
