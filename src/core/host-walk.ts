/**
 * The walk over a next hop's hosts: what each per-host result means for the
 * message (Postfix `smtp_trouble.c`; RFC 5321 §5.1; RFC 7672 §2.2.3; C4, C14,
 * C16, C29). One fold, used by the delivery engine (outbound/deliver.ts) and by
 * `dane-relay check` (tools/check/verdict.ts), so both walk alike.
 *
 * Contract (pure, never throws):
 * - entries are taken in route order; a host that was `skipped` (TLSA lookup
 *   error C4, policy refusal, no address) or `failed` (connection, STARTTLS,
 *   verification C14/C16) leaves its outcome as the walk's last reason and the
 *   next entry is tried; a host that was `used` (a session carried the
 *   transaction, every recipient has its answer) ends the walk;
 * - before each host (not before a skipped entry: it opens nothing), the walk
 *   stops when `mx_session_limit` sessions have reached a server (0 = no
 *   limit); failures that never connected do not count;
 * - when the walk ends without a used host, the recipients still pending are
 *   bounced only when every entry was permanent: a "host not found" skip
 *   (5.4.4), a loop back to ourselves (5.4.6), or a host that cannot carry a
 *   REQUIRETLS message (5.7.30, RFC 8689 §4.2.1; skipped before connecting or
 *   failed after the EHLO, `permanent: true`); otherwise deferred with the
 *   last reason, its 5.x.y lowered to
 *   4.x.y (core/outcome `noHostLeft`). A TLS or DANE failure therefore never
 *   bounces (C16); no entries at all defers 4.4.3.
 * - the end names the host the last reason came from (`relay`, as Postfix's
 *   status line does) when that host was connected to; a reason from a skip
 *   or an unreachable host has none (`relay=none`).
 * - every failure carries its typed cause (core/refusal-cause.ts).
 */
import { noHostLeft, type AttemptOutcome } from './outcome.ts';
import type { RefusalCause } from './refusal-cause.ts';

/** What one entry of the route gave. */
export type HostResult =
  | { kind: 'skipped'; dsn: string; reason: string; permanent: boolean; cause: RefusalCause }
  /** `relay`: `mx[ip]:port` of the server, for the status line when it was connected to; `permanent`: a REQUIRETLS refusal. */
  | { kind: 'failed'; outcome: AttemptOutcome; connected: boolean; relay?: string; permanent?: boolean }
  | { kind: 'used' };

export interface HostWalk {
  readonly last: AttemptOutcome | null;
  /** The server `last` came from, when it was connected to. */
  readonly lastRelay: string | null;
  readonly sessions: number;
  readonly entries: number;
  readonly allPermanent: boolean;
  readonly used: boolean;
}

/** Whether to go on to the next entry (`skip`: a route skip entry; `host`: an address to connect to). */
export type WalkMove = { kind: 'go' } | { kind: 'stop'; why: 'used' | 'session-limit' };

/** What the recipients still pending get when the walk is over (none are, after a used host). */
export type WalkEnd =
  | { kind: 'bounce'; outcome: Extract<AttemptOutcome, { kind: 'bounced' }>; relay: null }
  | { kind: 'defer'; outcome: AttemptOutcome; relay: string | null };

export function startHostWalk(): HostWalk {
  return { last: null, lastRelay: null, sessions: 0, entries: 0, allPermanent: true, used: false };
}

export function nextMove(w: HostWalk, entry: 'skip' | 'host', mxSessionLimit: number): WalkMove {
  if (w.used) return { kind: 'stop', why: 'used' };
  // smtp_mx_session_limit: sessions that reached a server, not addresses tried.
  if (entry === 'host' && mxSessionLimit > 0 && w.sessions >= mxSessionLimit) return { kind: 'stop', why: 'session-limit' };
  return { kind: 'go' };
}

export function recordHost(w: HostWalk, r: HostResult): HostWalk {
  const entries = w.entries + 1;
  if (r.kind === 'used') return { ...w, entries, sessions: w.sessions + 1, allPermanent: false, used: true };
  if (r.kind === 'skipped') {
    // C4: a skipped host is not used at all; its reason is the walk's last reason.
    const last: AttemptOutcome = { kind: 'next-host', dsn: r.dsn, diagnostic: r.reason, cause: r.cause };
    return { ...w, entries, last, lastRelay: null, allPermanent: w.allPermanent && r.permanent };
  }
  const lastRelay = r.connected && r.relay !== undefined ? r.relay : null;
  // Only a REQUIRETLS refusal (RFC 8689 §4.2.1, core/requiretls) is a permanent failure of a host.
  return { ...w, entries, last: r.outcome, lastRelay, sessions: w.sessions + (r.connected ? 1 : 0), allPermanent: w.allPermanent && r.permanent === true };
}

export function endOfWalk(w: HostWalk, nextHop: string): WalkEnd {
  const last = w.last;
  if (w.entries > 0 && w.allPermanent && last && last.kind !== 'sent') {
    return { kind: 'bounce', outcome: { kind: 'bounced', dsn: last.dsn, diagnostic: last.diagnostic, cause: last.cause }, relay: null };
  }
  // C16, C4: no host left: defer with the last reason, never bounce for TLS.
  const outcome = noHostLeft(last, { dsn: '4.4.3', diagnostic: `no usable mail exchanger for ${nextHop}`, cause: 'dns_failure' });
  return { kind: 'defer', outcome, relay: w.lastRelay };
}

/** The whole walk over results known in advance (`check`): the index of the used host, or the end. */
export function foldHostWalk(results: HostResult[], mxSessionLimit: number, nextHop: string): { kind: 'used'; index: number } | WalkEnd {
  let w = startHostWalk();
  for (const [index, r] of results.entries()) {
    if (nextMove(w, r.kind === 'skipped' ? 'skip' : 'host', mxSessionLimit).kind === 'stop') break;
    w = recordHost(w, r);
    if (w.used) return { kind: 'used', index };
  }
  return endOfWalk(w, nextHop);
}
