/**
 * The relay's logger: pino, JSON lines to stdout by default or appended to
 * `log.file`; with `log.format: postfix` those lines are Postfix-format
 * syslog lines instead, and `log.maillog` writes Postfix-format lines to a
 * second file whatever the format (postfix-format.ts renders them from the
 * same typed events). Every event carries typed fields (`qid`, `rcpt`, `relay`,
 * `dsn`, `status`, `event`, ...) and a `msg` in Postfix's wording, so
 * `grep 'status=deferred'` works as it always has.
 *
 * Contract: one logger per process, created from the frozen config and
 * passed down (no module singleton). `createLogger` throws only for an
 * unusable log file (a configuration error).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { renderPostfixLines, type PostfixFormatOptions } from './postfix-format.ts';

export type { Logger } from 'pino';

/**
 * `onEvent` sees the fields object of every log call that has one (the typed
 * event), before serialisation: metrics count exactly what is logged.
 */
export function createLogger(config: RelayConfig['log'], name = 'dane-relay', onEvent?: (fields: Record<string, unknown>) => void, hostname = 'localhost'): Logger {
  const hooks = onEvent === undefined ? undefined : {
    logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: Parameters<Logger['info']>) => void): void {
      const first: unknown = args[0];
      if (first !== null && typeof first === 'object' && !(first instanceof Error)) onEvent(first as Record<string, unknown>);
      method.apply(this, args);
    },
  };
  const options = { name, level: config.level, timestamp: pino.stdTimeFunctions.isoTime, ...(hooks ? { hooks } : {}) };
  const postfix: PostfixFormatOptions = { hostname, tlsFeatureStatus: config.tls_feature_status };
  const main = config.file === null ? pino.destination(1) : pino.destination({ dest: config.file, mkdir: true, sync: false });
  const streams = [{ stream: config.format === 'postfix' ? postfixStream(main, postfix) : main }];
  if (config.maillog !== null) streams.push({ stream: postfixStream(pino.destination({ dest: config.maillog, mkdir: true, sync: false }), postfix) });
  if (streams.length === 1 && config.format === 'json') return config.file === null ? pino(options) : pino(options, main);
  return pino({ ...options, level: config.level }, pino.multistream(streams.map((x) => ({ ...x, level: config.level }))));
}

/** A pino destination that writes each JSON line as Postfix-format lines to `out`. */
function postfixStream(out: DestinationStream, opts: PostfixFormatOptions): DestinationStream {
  return {
    write(line: string): void {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const lines = renderPostfixLines(event, opts);
      if (lines.length > 0) out.write(lines.join('\n') + '\n');
    },
  };
}

/** A logger that writes nothing (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
