/**
 * Per-client and per-session limits of the inbound listener, as Postfix's
 * anvil and smtpd do it (issue 19, items 5 and 6). Decisions are pure
 * functions of plain numbers; the two small counters below hold no timers
 * and take the clock as an argument.
 *
 * - Connections per client address (`smtpd_client_connection_count_limit`):
 *   over `client_connection_limit` concurrent connections a client gets
 *   `421 4.7.0 HOST Error: too many connections from ADDRESS` and is closed,
 *   so one client cannot hold every `max_clients` slot. Exempt: the
 *   `client_limit_exceptions` networks, by default `mynetworks`
 *   (`smtpd_client_event_limit_exceptions = $mynetworks`).
 * - Stress (Postfix `${stress?...}` defaults): when a listener holds at least
 *   `stress.threshold` % of `max_clients`, sessions get the shorter
 *   `stress.idle_timeout` and `stress.hard_error_limit`.
 * - Errors per session (`smtpd_hard_error_limit`): the reply that reaches the
 *   limit is followed by `421 4.7.0 HOST Error: too many errors` and a close.
 * - Failed AUTH per client address within a window
 *   (`smtpd_client_auth_rate_limit`, counted on failures): over the limit,
 *   AUTH gets `421 4.7.0` and the password is never checked (no scrypt work).
 *
 * Addresses are compared in canonical form (IPv4-mapped IPv6 as IPv4).
 * Failure modes: none; an unparsable address is its own key and is never
 * exempt. The failure table is bounded (LRU), so address churn cannot grow it.
 */
import { LRUCache } from 'lru-cache';
import type { RelayConfig } from '../config/schema.ts';
import { networkMatcher, parseClientAddress, type NetworkMatcher } from './access.ts';

export interface SmtpReply {
  code: number;
  text: string;
}

export interface LimitSettings {
  myhostname: string;
  maxClients: number;
  /** 0: no limit */
  connectionLimit: number;
  exempt: NetworkMatcher;
  hardErrorLimit: number;
  authFailureLimit: number;
  authFailureWindowMs: number;
  idleTimeoutMs: number;
  stress: { threshold: number; idleTimeoutMs: number; hardErrorLimit: number };
}

export function limitSettings(config: RelayConfig): LimitSettings {
  const i = config.inbound;
  return {
    myhostname: config.myhostname,
    maxClients: i.max_clients,
    connectionLimit: i.client_connection_limit,
    exempt: networkMatcher(i.client_limit_exceptions ?? config.mynetworks),
    hardErrorLimit: i.hard_error_limit,
    authFailureLimit: i.auth_failure_limit,
    authFailureWindowMs: i.auth_failure_window,
    idleTimeoutMs: i.idle_timeout,
    stress: { threshold: i.stress.threshold, idleTimeoutMs: i.stress.idle_timeout, hardErrorLimit: i.stress.hard_error_limit },
  };
}

/** The canonical text of a client address: `::ffff:192.0.2.1` and `192.0.2.1` are one client. */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  return parseClientAddress(address)?.text ?? address;
}

export type Admission = { kind: 'accept' } | { kind: 'reject'; reason: 'connection-limit' | 'auth-rate'; reply: SmtpReply };

/** `concurrent` counts this connection too (anvil's count after connect). */
export function admitConnection(s: LimitSettings, address: string, concurrent: number): Admission {
  if (s.connectionLimit === 0 || concurrent <= s.connectionLimit || s.exempt(address)) return { kind: 'accept' };
  return { kind: 'reject', reason: 'connection-limit', reply: { code: 421, text: `4.7.0 ${s.myhostname} Error: too many connections from ${clientKey(address)}` } };
}

/** Before any password check: `recentFailures` failed AUTH attempts of this address within the window. */
export function admitAuth(s: LimitSettings, address: string, recentFailures: number): Admission {
  if (s.authFailureLimit === 0 || recentFailures < s.authFailureLimit || s.exempt(address)) return { kind: 'accept' };
  return { kind: 'reject', reason: 'auth-rate', reply: { code: 421, text: `4.7.0 ${s.myhostname} Error: too many authentication failures from ${clientKey(address)}` } };
}

/** A listener is under stress when it holds at least `threshold` % of `max_clients` connections. */
export function underStress(s: LimitSettings, connections: number): boolean {
  return connections * 100 >= s.stress.threshold * s.maxClients;
}

export function sessionLimits(s: LimitSettings, stress: boolean): { idleTimeoutMs: number; hardErrorLimit: number } {
  return stress ? { idleTimeoutMs: s.stress.idleTimeoutMs, hardErrorLimit: s.stress.hardErrorLimit } : { idleTimeoutMs: s.idleTimeoutMs, hardErrorLimit: s.hardErrorLimit };
}

/**
 * After the `errors`-th error reply of a session: the 421 to send now, once,
 * when that reply reached the limit; undefined otherwise (0 = no limit).
 */
export function errorLimitReply(s: LimitSettings, stress: boolean, errors: number): SmtpReply | undefined {
  const limit = sessionLimits(s, stress).hardErrorLimit;
  if (limit === 0 || errors !== limit) return undefined;
  return { code: 421, text: `4.7.0 ${s.myhostname} Error: too many errors` };
}

/** Which replies count as errors of a session: every 4xx/5xx except the 421 that ends it. */
export function isErrorReply(code: number): boolean {
  return code >= 400 && code !== 421;
}

/**
 * RFC 4616 section 2: an authorization identity other than the authentication
 * identity asks to act as another user; we have no rules that allow that, so
 * it is refused. An empty authzid, or one equal to the authcid, is fine. An
 * empty authcid (a token RFC 4616 does not allow) is refused as well.
 */
export function authzidAllowed(auth: { method: string; authzid?: unknown; authcid?: unknown }): boolean {
  if (auth.method !== 'PLAIN') return true;
  const authzid = typeof auth.authzid === 'string' ? auth.authzid : '';
  const authcid = typeof auth.authcid === 'string' ? auth.authcid : '';
  return authcid !== '' && (authzid === '' || authzid === authcid);
}

/** Concurrent connections per client key. */
export class ConnectionCounts {
  private readonly counts = new Map<string, number>();

  /** Counts one connection; the returned function releases it (idempotent). */
  add(key: string): () => void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n <= 0) this.counts.delete(key);
      else this.counts.set(key, n);
    };
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  get clients(): number {
    return this.counts.size;
  }
}

/** Failed AUTH attempts per client key within a sliding window (bounded table). */
export class AuthFailures {
  private readonly table: LRUCache<string, number[]>;

  constructor(maxClients = 10_000) {
    this.table = new LRUCache({ max: maxClients });
  }

  /** Failures of `key` within `windowMs` before `now`. */
  recent(key: string, now: number, windowMs: number): number {
    const times = this.table.get(key);
    if (!times) return 0;
    const kept = times.filter((t) => now - t < windowMs);
    if (kept.length === 0) this.table.delete(key);
    else this.table.set(key, kept);
    return kept.length;
  }

  /** Records one failure; keeps at most `keep` times per key (the limit: older ones cannot matter). */
  record(key: string, now: number, keep: number): void {
    const times = [...(this.table.get(key) ?? []), now];
    this.table.set(key, times.slice(-Math.max(1, keep)));
  }
}
