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
 * unusable log file (a configuration error). `reopenLogFile` reopens
 * `log.file` by name (after logrotate renamed it; `serve` calls it on
 * SIGHUP, as nginx and Postfix's postlogd do); for stdout it does nothing.
 * Files are written line by line as each call returns, and a full disk
 * never makes a log call throw (append-file.ts).
 */
import { fstatSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { AppendFile } from './append-file.ts';
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
  const stdout = config.file === null ? pino.destination(1) : undefined;
  // Under systemd, stdout lines carry their journald priority (sd-daemon `<N>` prefix).
  const main = stdout ? (stdoutIsJournal() ? journalStream(stdout) : stdout) : new AppendFile(config.file ?? '');
  if (config.format === 'json' && config.maillog === null) return pino(options, main);
  return pino(options, destinations(config, hostname, main));
}

/** syslog priority of a pino level (journald reads a leading `<N>` on each stdout line). */
function priorityOf(level: number): number {
  return level >= 60 ? 2 : level >= 50 ? 3 : level >= 40 ? 4 : level >= 30 ? 6 : 7;
}

/** True when stdout is the journal (systemd sets JOURNAL_STREAM=dev:inode of that stream). */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env, stat: () => { dev: number; ino: number } = () => fstatSync(1)): boolean {
  const m = /^(\d+):(\d+)$/.exec(env['JOURNAL_STREAM'] ?? '');
  if (!m) return false;
  try {
    const st = stat();
    return String(st.dev) === m[1] && String(st.ino) === m[2];
  } catch {
    return false;
  }
}

/**
 * Prefixes every line with its journald priority (`<6>` info, `<4>` warn, `<3>` error, ...), read
 * from the line's pino `level` (JSON) — or, for Postfix-format lines, the level of the event they render.
 */
export function journalStream(out: DestinationStream, levelOf: (line: string) => number = jsonLevel): DestinationStream {
  return { write: (line: string) => void out.write(line.split('\n').filter((l) => l !== '').map((l) => `<${priorityOf(levelOf(l))}>${l}\n`).join('')) };
}

/** A JSON line's pino level; a Postfix-format line's from its `warning:`/`error:`/`fatal:`/`panic:` text, as Postfix marks them. */
function jsonLevel(line: string): number {
  const m = /"level":(\d+)/.exec(line.slice(0, 40));
  if (m) return Number(m[1]);
  const p = /\]: (?:\S+: )?(warning|error|fatal|panic):/.exec(line);
  return p ? { warning: 40, error: 50, fatal: 60, panic: 60 }[p[1] as 'warning'] : 30;
}

/** The main destination in `log.format`, plus the Postfix-format `log.maillog` when set. */
function destinations(config: RelayConfig['log'], hostname: string, main: DestinationStream | undefined): DestinationStream {
  const opts: PostfixFormatOptions = { hostname, tlsFeatureStatus: config.tls_feature_status };
  const streams: DestinationStream[] = [];
  if (main) streams.push(config.format === 'postfix' ? postfixStream(main, opts) : main);
  if (config.maillog !== null) streams.push(postfixStream(new AppendFile(config.maillog), opts));
  return pino.multistream(streams.map((stream) => ({ stream, level: config.level })));
}

/** A pino destination that writes each JSON line as Postfix-format lines to `out`; reopens `out` (rotation). */
function postfixStream(out: DestinationStream, opts: PostfixFormatOptions): DestinationStream & Reopenable {
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
    reopen(): void {
      reopenStream(out);
    },
  };
}

/** A logger that writes nothing (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

interface Reopenable { reopen(): void }

function reopenStream(stream: unknown): void {
  if (stream === process.stdout || stream === null || typeof stream !== 'object') return;
  const multi = (stream as { streams?: Array<{ stream: unknown }> }).streams;
  if (Array.isArray(multi)) for (const s of multi) reopenStream(s.stream);
  else if (typeof (stream as Partial<Reopenable>).reopen === 'function' && (stream as { fd?: number }).fd !== 1) (stream as Reopenable).reopen();
}

/** Reopens the logger's files by name (log rotation: `log.file` and `log.maillog`); stdout is left alone. */
export function reopenLogFile(logger: Logger): void {
  reopenStream((logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym]);
}

/**
 * The logger of an administration command (`queue delete|hold|release|requeue`)
 * run beside the relay: appends synchronously to the relay's `log.file` (in
 * `log.format`) and `log.maillog` under the name `dane-relay/postsuper` (as
 * Postfix's `postfix/postsuper`); undefined when the relay logs to stdout
 * only (the command's own output is then the only record).
 */
export function adminLogger(config: RelayConfig['log'], hostname = 'localhost'): Logger | undefined {
  if (config.file === null && config.maillog === null) return undefined;
  const options = { name: 'dane-relay/postsuper', level: config.level, timestamp: pino.stdTimeFunctions.isoTime };
  return pino(options, destinations(config, hostname, config.file === null ? undefined : new AppendFile(config.file)));
}
