/**
 * Log events as `dane-relay report` reads them: one pino JSON line → one typed
 * event, or `undefined` for a line that is not one of ours.
 *
 * Contract: never throws on input. Dotted field names are accepted both as
 * literal dotted keys (`"tls.state": "Verified"`) and as nested objects
 * (`"tls": {"state": "Verified"}`). `time` may be epoch milliseconds or an
 * ISO string; an unparseable time becomes `undefined`. Inbound's `queued`
 * event counts as `accepted`. A `delivery` event without `domain` but with
 * `attempt` is the queue's own record of an outcome the delivery engine has
 * already logged (src/log/queue-events.ts): it becomes `queue-outcome`, used
 * only for `expired`, which only the queue knows (no double counting). Vocabulary (TLS
 * states, statuses, DSN codes) is DESIGN.md's; checklist C30 is what makes
 * these fields worth summarising.
 */

import { isRefusalCause, type RefusalCause } from '../../core/refusal-cause.ts';
import { LOGGED_STATUSES, LOGGED_TLS_STATES, type LoggedStatus, type LoggedTlsState } from '../../log/delivery-events.ts';

/** The log's own vocabulary (src/log/delivery-events.ts): one word per case, `none` for no TLS. */
export type Status = LoggedStatus;
export const STATUSES: readonly Status[] = LOGGED_STATUSES;
export const TLS_STATES: readonly LoggedTlsState[] = LOGGED_TLS_STATES;
export type { LoggedTlsState };

interface Base { time: number | undefined; domain: string | undefined }
export type LogEvent =
  | (Base & { kind: 'accepted'; qid: string | undefined; size: number; nrcpt: number })
  | (Base & { kind: 'tls'; state: LoggedTlsState | undefined; daneResult: string | undefined; mx: string | undefined })
  | (Base & { kind: 'delivery'; qid: string | undefined; status: Status | undefined; state: LoggedTlsState; dsn: string | undefined;
      text: string; rcpt: string | undefined; mx: string | undefined; feature: string | undefined; cause?: RefusalCause })
  | (Base & { kind: 'host-skipped'; dsn: string | undefined; text: string; mx: string | undefined; ip: string | undefined; cause?: RefusalCause })
  | (Base & { kind: 'queue-outcome'; qid: string | undefined; status: Status | undefined });

type Json = Record<string, unknown>;

/** A field by dotted name: the literal dotted key first, then the nested path. */
export function field(obj: Json, name: string): unknown {
  const direct = obj[name];
  if (direct !== undefined || !name.includes('.')) return direct;
  return nested(obj, name.split('.'));
}

function nested(obj: Json, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[part];
  }
  return cur;
}

/** Dotted names used per line, split once (the report reads millions of lines). */
const PATHS: Record<string, readonly string[]> = {
  'tls.state': ['tls', 'state'], 'dane.result': ['dane', 'result'], 'tls.feature': ['tls', 'feature'],
};

function str(obj: Json, name: string): string | undefined {
  let v = obj[name];
  if (v === undefined) {
    const path = PATHS[name];
    if (path) v = nested(obj, path);
  }
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(obj: Json, name: string): number {
  const v = obj[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function parseTime(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function tlsState(obj: Json): LoggedTlsState | undefined {
  const s = str(obj, 'tls.state');
  return s !== undefined && (TLS_STATES as readonly string[]).includes(s) ? (s as LoggedTlsState) : undefined;
}

function status(obj: Json): Status | undefined {
  const s = str(obj, 'status');
  return s !== undefined && (STATUSES as readonly string[]).includes(s) ? (s as Status) : undefined;
}

/** The `(…)` detail at the end of a Postfix delivery line: `…, status=deferred (Server certificate not verified)`. */
function msgDetail(msg: string | undefined): string | undefined {
  if (msg === undefined) return undefined;
  const m = /status=\w+ \((.*)\)$/.exec(msg);
  return m?.[1] ?? msg;
}

/** Turn one parsed JSON object into an event; undefined when it is not one of ours. */
export function toEvent(obj: Json): LogEvent | undefined {
  const kind = obj['event'];
  if (kind !== 'accepted' && kind !== 'queued' && kind !== 'tls' && kind !== 'delivery' && kind !== 'host-skipped' && kind !== 'queue-outcome') return undefined;
  const time = parseTime(obj['time']);
  const domain = str(obj, 'domain')?.toLowerCase();
  if (kind === 'accepted' || kind === 'queued') return { kind: 'accepted', time, domain, qid: str(obj, 'qid'), size: num(obj, 'size'), nrcpt: num(obj, 'nrcpt') };
  if (kind === 'tls') return { kind, time, domain, state: tlsState(obj), daneResult: str(obj, 'dane.result'), mx: str(obj, 'mx') };
  if (kind === 'host-skipped') {
    return { kind, time, domain, dsn: str(obj, 'dsn'), text: str(obj, 'reason') ?? str(obj, 'msg') ?? '', mx: str(obj, 'mx'), ip: str(obj, 'ip'), ...causeOf(obj) };
  }
  // The queue's own record of an outcome repeats the delivery engine's event.
  if (kind === 'queue-outcome') return { kind: 'queue-outcome', time, domain, qid: str(obj, 'qid'), status: status(obj) };
  return {
    kind, time, domain, qid: str(obj, 'qid'), status: status(obj), state: tlsState(obj) ?? 'none',
    dsn: str(obj, 'dsn'), text: str(obj, 'diagnostic') ?? msgDetail(str(obj, 'msg')) ?? str(obj, 'remoteReply') ?? '', rcpt: str(obj, 'rcpt'),
    mx: str(obj, 'mx'), feature: str(obj, 'tls.feature'), ...causeOf(obj),
  };
}

/** The typed cause the relay logged (core/refusal-cause.ts), when there is one. */
function causeOf(obj: Json): { cause?: RefusalCause } {
  const c = obj['cause'];
  return isRefusalCause(c) ? { cause: c } : {};
}

/** Parse one log line; undefined for blank, non-JSON or foreign lines. */
export function parseLine(line: string): LogEvent | undefined {
  const t = line.trimStart();
  if (!t.startsWith('{')) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  return toEvent(obj as Json);
}
