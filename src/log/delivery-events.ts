/**
 * Typed delivery and TLS log events, each with a `msg` in Postfix's wording so
 * operators can grep as they always have (RFC 7672 §9.1 audit trail, C30).
 *
 * Contract:
 * - one `tls` event per TLS session established, one `delivery` event per
 *   recipient outcome, one `host-skipped` event per MX host/address not used
 *   (TLSA lookup error, failed verification, TLS not offered, connection
 *   failure…), one `starttls-injection` event when the server sent plaintext
 *   after its STARTTLS reply (someone may be on the path, C32); the engine
 *   also logs `tls-fallback` (a plain warn) when, at `may` only, a failed
 *   handshake is followed by a plaintext retry;
 * - fields are nested objects (`tls.state` is `{ tls: { state } }` in the
 *   JSON line): `qid`, `rcpt`, `domain`, `mx`, `ip`, `port`, `tls.{state,
 *   level, feature, protocol, cipher}`, `dane.{result, base, match}`,
 *   `mxSecure`, `tlsaSecure`, `dsn`, `status`, `relay`, `delay`, `delays`,
 *   `policy_type` (`tlsa` | `sts` | `no-policy-found`: the policy source
 *   that governed the host, RFC 8460 §4.4 words) on `tls`, `host-skipped`
 *   and `delivery` events when a policy was decided; `tls.feature` is `sts`
 *   where an MTA-STS enforce policy applied;
 * - pure builders: no I/O; `emit*` helpers write through the given pino
 *   logger (info for success, warn for skipped hosts and deferrals).
 */
import type pino from 'pino';
import type { RefusalCause } from '../core/refusal-cause.ts';
import type { DaneResult } from '../core/effective-policy.ts';
import type { ReportPolicyType } from '../core/sts-precedence.ts';
import type { TlsLevel } from '../core/tls-level.ts';
import type { TlsState } from '../core/tls-verdict.ts';
import type { RecipientStatus } from '../queue/deliverer.ts';

export interface Endpoint { domain: string; mx: string; ip: string; port: number }

/** `tls.state` as logged: a Postfix TLS state, or `none` for a delivery without TLS. Readers use these words. */
export const LOGGED_TLS_STATES = ['Verified', 'Trusted', 'Untrusted', 'Anonymous', 'none'] as const satisfies ReadonlyArray<TlsState | 'none'>;
export type LoggedTlsState = (typeof LOGGED_TLS_STATES)[number];

/** `status` of a `delivery` event, plus `expired`, which the queue's `queue-outcome` event adds (log/queue-events.ts). */
export const LOGGED_STATUSES = ['sent', 'deferred', 'bounced', 'expired'] as const satisfies ReadonlyArray<RecipientStatus | 'expired'>;
export type LoggedStatus = (typeof LOGGED_STATUSES)[number];

export interface TlsFields {
  state: LoggedTlsState;
  level: TlsLevel;
  feature: string;
  protocol?: string;
  cipher?: string;
  bits?: number;
}

export interface DaneFields {
  result: DaneResult;
  base: string | null;
  /** The record that matched and its depth, `3 1 1 ab12… depth=0`. */
  match: string | null;
}

export interface TlsEvent extends Endpoint {
  event: 'tls';
  qid: string;
  mxSecure: boolean;
  tlsaSecure: boolean;
  reason: string;
  tls: TlsFields;
  dane: DaneFields;
  /** The outbound connection number (its deliveries carry the same). */
  conn?: number;
  policy_type?: ReportPolicyType;
  msg: string;
}

export interface HostSkippedEvent extends Partial<Pick<Endpoint, 'ip'>> {
  event: 'host-skipped';
  qid: string;
  domain: string;
  mx: string;
  port: number;
  dsn: string;
  reason: string;
  /** Why (core/refusal-cause.ts): what metrics and `report` count, never the text. */
  cause: RefusalCause;
  tls?: Pick<TlsFields, 'level'>;
  dane?: Pick<DaneFields, 'result'>;
  policy_type?: ReportPolicyType;
  msg: string;
}

export interface DeliveryEvent {
  event: 'delivery';
  qid: string;
  rcpt: string;
  domain: string;
  mx?: string;
  ip?: string;
  port?: number;
  relay: string;
  /** For a recipient not delivered: why (core/refusal-cause.ts). */
  cause?: RefusalCause;
  tls?: TlsFields;
  dane?: DaneFields;
  policy_type?: ReportPolicyType;
  dsn: string;
  status: RecipientStatus;
  remoteReply?: string;
  delay: number;
  delays: string;
  connUse?: number;
  /** The outbound connection number (shared with its `tls` event). */
  conn?: number;
  msg: string;
}

export interface InjectionEvent extends Endpoint {
  event: 'starttls-injection';
  qid: string;
  discardedBytes: number;
  msg: string;
}

/** Postfix delay formatting: two significant digits below 10 s, whole seconds above. */
export function formatSeconds(seconds: number): string {
  if (!(seconds > 0)) return '0';
  if (seconds >= 10) return String(Math.round(seconds));
  if (seconds < 0.01) return '0.01';
  return String(Number(seconds.toPrecision(2)));
}

/** Postfix `delays=a/b/c/d`: before the delivery agent, queue manager, connection set-up (DNS, HELO, TLS), transmission. */
export interface DelayBreakdown { beforeMs: number; queueMs: number; setupMs: number; transmitMs: number }

export function formatDelays(d: DelayBreakdown): { delay: number; delays: string } {
  const parts = [d.beforeMs, d.queueMs, d.setupMs, d.transmitMs].map((ms) => Math.max(0, ms) / 1000);
  const total = parts.reduce((a, b) => a + b, 0);
  return { delay: Number(total.toFixed(3)), delays: parts.map(formatSeconds).join('/') };
}

/** `mx.example.net[192.0.2.1]:25` */
export function relayName(e: Pick<Endpoint, 'mx' | 'ip' | 'port'>): string {
  return `${e.mx}[${e.ip}]:${e.port}`;
}

/** Postfix: `Verified TLS connection established to mx[ip]:25: TLSv1.3 with cipher X (256/256 bits)`. */
export function tlsEventOf(f: Omit<TlsEvent, 'event' | 'msg'>): TlsEvent {
  const bits = f.tls.bits !== undefined ? ` (${f.tls.bits}/${f.tls.bits} bits)` : '';
  const msg = `${f.tls.state} TLS connection established to ${relayName(f)}: ${f.tls.protocol ?? 'unknown'} with cipher ${f.tls.cipher ?? 'unknown'}${bits}`;
  return { event: 'tls', ...f, msg };
}

/** Postfix wording for the reason a host was not used, e.g. `Server certificate not verified`. */
export function hostSkippedEventOf(f: Omit<HostSkippedEvent, 'event' | 'msg'>): HostSkippedEvent {
  const where = f.ip !== undefined ? `${f.mx}[${f.ip}]:${f.port}` : `${f.mx}:${f.port}`;
  // Postfix wording often names the host already (`TLSA lookup error for mx:25`): never twice.
  return { event: 'host-skipped', ...f, msg: f.reason.includes(`${f.mx}:${f.port}`) || f.reason.includes(`${f.mx}[`) ? f.reason : `${where}: ${f.reason}` };
}

/** Postfix: `to=<a@x>, relay=mx[ip]:25, delay=0.4, delays=0.01/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)`. */
export function deliveryEventOf(f: Omit<DeliveryEvent, 'event' | 'msg'>, detail: string): DeliveryEvent {
  const connUse = f.connUse !== undefined && f.connUse > 1 ? `, conn_use=${f.connUse}` : '';
  const tls = f.tls ? `, tls=${f.tls.feature}` : '';
  const msg = `to=<${f.rcpt}>, relay=${f.relay}${connUse}, delay=${formatSeconds(f.delay)}, delays=${f.delays}${tls}, dsn=${f.dsn}, status=${f.status} (${detail})`;
  return { event: 'delivery', ...f, msg };
}

export function injectionEventOf(f: Omit<InjectionEvent, 'event' | 'msg'>): InjectionEvent {
  return { event: 'starttls-injection', ...f, msg: `plaintext data after STARTTLS from ${relayName(f)}: ${f.discardedBytes} bytes discarded` };
}

export type DeliveryLogEvent = TlsEvent | HostSkippedEvent | DeliveryEvent | InjectionEvent;

/** Writes one event: `msg` becomes pino's message, the rest the fields. */
export function emitEvent(logger: pino.Logger, e: DeliveryLogEvent): void {
  const { msg, ...fields } = e;
  const warn = e.event === 'host-skipped' || e.event === 'starttls-injection' || (e.event === 'delivery' && e.status !== 'sent');
  if (warn) logger.warn(fields, msg);
  else logger.info(fields, msg);
}
