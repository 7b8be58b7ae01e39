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
 * SIGHUP re-reads the same file with the same flags: a bad new config is
 * logged and the old one kept; a good one is applied (relay.reload) with a
 * fresh delivery engine built from it.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type ConfigOverrides } from '../config/load.ts';
import type { RelayConfig } from '../config/schema.ts';
import { createLogger } from '../log/logger.ts';
import type { Deliverer } from '../queue/deliverer.ts';
import { startRelay, type RelayHandle } from '../relay.ts';

export interface ServeFlags {
  config?: string;
  listen?: string[];
  spool?: string;
  grace?: string;
}

export const EX_CONFIG = 78;

type MakeDeliverer = (config: RelayConfig, deps: { logger: Logger }) => Promise<Deliverer>;

async function defaultDeliverer(config: RelayConfig, deps: { logger: Logger }): Promise<Deliverer> {
  const { createDeliverer } = await import('../outbound/create-deliverer.ts');
  return createDeliverer(config, deps);
}

export function overridesFrom(flags: ServeFlags): ConfigOverrides {
  return { listen: flags.listen && flags.listen.length > 0 ? flags.listen : undefined, spool: flags.spool };
}

function installSignals(handle: RelayHandle, flags: ServeFlags, logger: Logger, makeDeliverer: MakeDeliverer, graceMs: number): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'signal', signal }, `received ${signal}, stopping`);
    void handle.stop({ graceMs }).finally(() => {
      process.removeAllListeners('SIGHUP');
      logger.flush();
      setTimeout(() => process.exit(0), 200).unref();
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void reload(handle, flags, logger, makeDeliverer));
}

async function reload(handle: RelayHandle, flags: ServeFlags, logger: Logger, makeDeliverer: MakeDeliverer): Promise<void> {
  let config: RelayConfig;
  try {
    config = loadConfig(flags.config, overridesFrom(flags));
  } catch (err) {
    logger.error({ event: 'reload-rejected', err: (err as Error).message }, `reload rejected, keeping the running configuration: ${(err as Error).message}`);
    return;
  }
  try {
    const deliverer = await makeDeliverer(config, { logger });
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
    process.stderr.write(`dane-relay: ${err.message}\n`);
    process.exitCode = EX_CONFIG;
    return undefined;
  }
  const logger = createLogger(config.log);
  try {
    const deliverer = await makeDeliverer(config, { logger });
    const handle = await startRelay(config, { deliverer, logger });
    installSignals(handle, flags, logger, makeDeliverer, Number(flags.grace ?? 10) * 1000);
    return handle;
  } catch (err) {
    logger.fatal({ err }, `fatal: ${(err as Error).message}`);
    process.stderr.write(`dane-relay: fatal: ${(err as Error).message}\n`);
    logger.flush();
    process.exitCode = 1;
    return undefined;
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
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
      await runServe(flags);
    });
}
