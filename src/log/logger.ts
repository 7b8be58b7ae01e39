/**
 * The relay's logger: pino, JSON lines to stdout by default or appended to
 * `log.file`. Every event carries typed fields (`qid`, `rcpt`, `relay`,
 * `dsn`, `status`, `event`, ...) and a `msg` in Postfix's wording, so
 * `grep 'status=deferred'` works as it always has.
 *
 * Contract: one logger per process, created from the frozen config and
 * passed down (no module singleton). `createLogger` throws only for an
 * unusable log file (a configuration error). `reopenLogFile` reopens
 * `log.file` by name (after logrotate renamed it; `serve` calls it on
 * SIGHUP, as nginx and Postfix's postlogd do); for stdout it does nothing.
 */
import pino, { type Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';

export type { Logger } from 'pino';

/**
 * `onEvent` sees the fields object of every log call that has one (the typed
 * event), before serialisation: metrics count exactly what is logged.
 */
export function createLogger(config: RelayConfig['log'], name = 'dane-relay', onEvent?: (fields: Record<string, unknown>) => void): Logger {
  const hooks = onEvent === undefined ? undefined : {
    logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: Parameters<Logger['info']>) => void): void {
      const first: unknown = args[0];
      if (first !== null && typeof first === 'object' && !(first instanceof Error)) onEvent(first as Record<string, unknown>);
      method.apply(this, args);
    },
  };
  const options = { name, level: config.level, timestamp: pino.stdTimeFunctions.isoTime, ...(hooks ? { hooks } : {}) };
  if (config.file === null) return pino(options);
  return pino(options, pino.destination({ dest: config.file, mkdir: true, sync: false }));
}

/** A logger that writes nothing (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

interface Reopenable { reopen(): void }

/** Reopens the logger's file by its name (log rotation); a no-op when logging to stdout. */
export function reopenLogFile(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (stream !== process.stdout && stream !== null && typeof stream === 'object' && typeof (stream as Partial<Reopenable>).reopen === 'function') {
    (stream as Reopenable).reopen();
  }
}

/**
 * The logger of an administration command (`queue delete|hold|release|requeue`)
 * run beside the relay: appends synchronously to the relay's `log.file`
 * under the name `dane-relay/postsuper` (as Postfix's `postfix/postsuper`);
 * undefined when the relay logs to stdout (the command's own output is then
 * the only record).
 */
export function adminLogger(config: RelayConfig['log']): Logger | undefined {
  if (config.file === null) return undefined;
  const options = { name: 'dane-relay/postsuper', level: config.level, timestamp: pino.stdTimeFunctions.isoTime };
  return pino(options, pino.destination({ dest: config.file, mkdir: true, sync: true }));
}
