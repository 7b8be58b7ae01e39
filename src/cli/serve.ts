/**
 * `dane-relay serve [--config FILE] [--listen HOST:PORT]... [--spool DIR]`
 *
 * Loads the configuration once (no file: embedded defaults; flags override
 * the file), creates the logger and the delivery engine, starts the relay.
 * A bad config stops start-up with one `config error: <key>: ...` line on
 * stderr and exit status 78 (EX_CONFIG); nothing half-starts.
 *
 * Signals: SIGTERM / SIGINT stop accepting, let in-flight deliveries finish
 * within 10 s (`--grace`), exit 0 with everything unfinished still queued.
 * SIGHUP first reopens `log.file` and `log.maillog` by name, in both
 * threads (log rotation: logrotate renames the files, then signals;
 * config/logrotate/dane-relay), then re-reads the
 * same file with the same flags: a bad new config is
 * logged and the old one kept; a good one is applied (relay.reload) with a
 * fresh delivery engine built from it (the DNS client and the metrics
 * listener are kept: `dns.*` and `metrics.*` changes need a restart).
 *
 * Start-up runs the DNSSEC self-check (C6, src/health/dnssec-guard.ts) before
 * anything listens: with DANE configured and `dns.dnssec_probe.on_failure:
 * refuse`, a resolver that does not validate stops start-up (exit 1).
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type ConfigOverrides } from '../config/load.ts';
import { EX_CONFIG } from '../config/errors.ts';
import type { RelayConfig } from '../config/schema.ts';
import { createLogger, reopenLogFile } from '../log/logger.ts';
import type { Deliverer } from '../queue/deliverer.ts';
import { startRelay, type RelayHandle } from '../relay.ts';
import type { DnsClient } from '../dns/index.ts';
import { sumDnsStats, type DnsClientStats } from '../dns/client.ts';
import { startupDnssecCheck } from '../health/dnssec-guard.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { buildDnsClient } from '../dns/from-config.ts';
import { DeliveryThread } from '../outbound/delivery-thread.ts';
import { startObservability } from './serve-observability.ts';
import { installLastResortHandlers } from '../log/last-resort.ts';
import { collect } from './args.ts';

export interface ServeFlags {
  config?: string;
  listen?: string[];
  spool?: string;
  grace?: string;
  /** Log-and-continue handlers for escaped errors (the `serve` command only; src/log/last-resort.ts). */
  lastResort?: boolean;
}

export { EX_CONFIG };

interface DelivererContext {
  logger: Logger;
  dns: DnsClient;
  startup: boolean;
  /** The delivery thread, when `delivery.engine_thread` was set at start-up (src/outbound/delivery-thread.ts). */
  thread?: DeliveryThread;
}

type MakeDeliverer = (config: RelayConfig, deps: DelivererContext) => Promise<Deliverer>;

/** The engine in its own thread (`delivery.engine_thread`, the default) or in the main thread, after the start-up DNSSEC check. */
async function defaultDeliverer(config: RelayConfig, deps: DelivererContext): Promise<Deliverer> {
  if (deps.startup) await startupDnssecCheck(config, deps.dns, deps.logger);
  if (deps.thread) return deps.thread.engine(config);
  // Loaded only here: with the delivery thread, the listener's thread never loads the SMTP client, MTA-STS or TLSRPT.
  const { createDeliverer } = await import('../outbound/create-deliverer.ts');
  return createDeliverer(config, { logger: deps.logger, dns: deps.dns });
}

export function overridesFrom(flags: ServeFlags): ConfigOverrides {
  return { listen: flags.listen && flags.listen.length > 0 ? flags.listen : undefined, spool: flags.spool };
}

interface Running {
  handle: RelayHandle;
  dns: DnsClient;
  thread?: DeliveryThread;
  observability?: { close(): Promise<void> };
}

function installSignals(run: Running, flags: ServeFlags, logger: Logger, makeDeliverer: MakeDeliverer, graceMs: number): void {
  const { handle } = run;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'signal', signal }, `received ${signal}, stopping`);
    void handle.stop({ graceMs }).then(() => run.observability?.close()).then(() => run.dns.close()).finally(() => {
      process.removeAllListeners('SIGHUP');
      logger.flush();
      setTimeout(() => process.exit(0), 200).unref();
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    reopenLogFile(logger);
    run.thread?.reopenLog();
    void reload(run, flags, logger, makeDeliverer);
  });
}

async function reload({ handle, dns, thread }: Running, flags: ServeFlags, logger: Logger, makeDeliverer: MakeDeliverer): Promise<void> {
  let config: RelayConfig;
  try {
    config = loadConfig(flags.config, overridesFrom(flags));
  } catch (err) {
    const text = (err as Error).message.replace(/\n/g, '; ');
    logger.error({ event: 'reload-rejected', err: text }, `reload rejected, keeping the running configuration: ${text}`);
    return;
  }
  if (config.delivery.engine_thread !== (thread !== undefined)) logger.warn({ event: 'reload' }, 'delivery.engine_thread changes take effect after a restart');
  try {
    const deliverer = await makeDeliverer(config, { logger, dns, startup: false, ...(thread ? { thread } : {}) });
    handle.reload(config, deliverer);
  } catch (err) {
    logger.error({ event: 'reload-rejected', err }, `reload rejected, keeping the running configuration: ${String(err)}`);
  }
}

/** Runs the relay until a signal stops it. Returns the handle (tests). */
export async function runServe(flags: ServeFlags, makeDeliverer: MakeDeliverer = defaultDeliverer): Promise<RelayHandle | undefined> {
  let config: RelayConfig;
  try {
    config = loadConfig(flags.config, overridesFrom(flags));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(err.lines('dane-relay: '));
    process.exitCode = EX_CONFIG;
    return undefined;
  }
  const metrics = config.metrics.listen === null ? undefined : createMetrics();
  const observe = metrics ? (fields: Record<string, unknown>): void => metrics.observe(fields) : undefined;
  const logger = createLogger(config.log, undefined, observe, config.myhostname);
  // The engine's thread lives as long as the relay: reloads build their engines in it (dns.* kept, as below).
  const thread = config.delivery.engine_thread ? new DeliveryThread(config, { logger, lastResort: flags.lastResort === true, ...(observe ? { observe } : {}) }) : undefined;
  let dns: DnsClient | undefined;
  let deliverer: Deliverer | undefined;
  let handle: RelayHandle | undefined;
  try {
    const relayDns = (dns = await buildDnsClient(config));
    logger.info({ event: 'dns-trust' }, dns.describeTrust());
    deliverer = await makeDeliverer(config, { logger, dns, startup: true, ...(thread ? { thread } : {}) });
    handle = await startRelay(config, { deliverer, logger });
    const dnsStats = (): DnsClientStats => sumDnsStats(relayDns.stats(), thread?.dnsStats());
    const observability = metrics ? await startObservability(config, metrics, handle, dnsStats) : undefined;
    if (flags.lastResort) installLastResortHandlers(logger);
    installSignals({ handle, dns, observability, ...(thread ? { thread } : {}) }, flags, logger, makeDeliverer, Number(flags.grace ?? 10) * 1000);
    return handle;
  } catch (err) {
    // The relay closes its deliverer when it stops; one it never took is closed here (and with it the delivery thread).
    await (handle ? handle.stop({ graceMs: 0 }) : deliverer?.close())?.catch(() => undefined);
    await thread?.end();
    await dns?.close().catch(() => undefined);
    logger.fatal({ err }, `fatal: ${(err as Error).message}`);
    process.stderr.write(`dane-relay: fatal: ${(err as Error).message}\n`);
    logger.flush();
    process.exitCode = 1;
    return undefined;
  }
}

export function registerServe(program: Command): Command {
  return program
    .command('serve')
    .description('run the relay: inbound SMTP, queue, DANE-enforcing delivery')
    .option('-c, --config <file>', 'YAML configuration file (default: none, embedded defaults)')
    .option('--listen <host:port>', 'inbound listener, repeatable; overrides the file', collect)
    .option('--spool <dir>', 'queue directory; overrides the file')
    .option('--grace <seconds>', 'on SIGTERM, how long in-flight deliveries may finish', '10')
    .action(async (flags: ServeFlags) => {
      await runServe({ ...flags, lastResort: true });
    });
}
