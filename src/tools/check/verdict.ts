/**
 * Verdicts of `dane-relay check`, with the relay's own semantics
 * (RFC 7672 §2.2, checklist C4, C14, C16; core/outcome for the wording).
 *
 * Contract:
 * - `addressVerdict`: an address the relay would use passes; a failure with a
 *   DSN of class x.7.x (TLS required but missing, handshake failure,
 *   `Server certificate not verified`, TLSA lookup error, dane-only refusal)
 *   or a DNS lookup error (4.4.3 `… try again`, how a bogus answer arrives,
 *   C1) is a DANE `fail`; anything else (connection refused, timeout, an SMTP
 *   reply) is `error`: the host is unusable, but not because of DANE.
 * - `relayOutcome` walks the route plan's entries with the delivery engine's
 *   own fold (core/host-walk): skipped hosts give their reason, sessions that
 *   reached a server count toward `mx_session_limit`, the first address that
 *   opens a verified session is where the mail would go. When none does, the
 *   outcome is the fold's end (a bounce only when every entry was a permanent
 *   "host not found", else deferred with the last reason).
 * - `domainVerdict`: `fail` when the relay would not deliver now; `degraded`
 *   when it would, but some host or address fails DANE; else `pass`.
 * Pure.
 */
import type { RefusalCause } from '../../core/refusal-cause.ts';
import { foldHostWalk, type HostResult } from '../../core/host-walk.ts';
import type { AttemptOutcome } from '../../core/outcome.ts';
import type { AddressVerdict, DomainVerdict } from './types.ts';

/** What one address attempt gave (from openVerifiedSession). */
export type Attempt =
  | { kind: 'open' }
  | { kind: 'failed'; outcome: AttemptOutcome; reason: string; connected: boolean };

export type Step =
  | { kind: 'skip'; dsn: string; reason: string; cause: RefusalCause; permanent: boolean }
  | { kind: 'address'; label: string; attempt: Attempt };

/** True for the failures a DANE check reports as failures (see the module contract). */
export function isDaneFailure(dsn: string): boolean {
  return /^[45]\.7\./.test(dsn) || dsn === '4.4.3';
}

export function addressVerdict(a: Attempt): AddressVerdict {
  if (a.kind === 'open') return 'pass';
  return isDaneFailure(a.outcome.dsn) ? 'fail' : 'error';
}

export function skipVerdict(dsn: string): AddressVerdict {
  return isDaneFailure(dsn) ? 'fail' : 'error';
}

export type RelayOutcome = { kind: 'deliver'; via: string } | { kind: 'refuse'; outcome: AttemptOutcome };

function hostResultOf(s: Step): HostResult {
  if (s.kind === 'skip') return { kind: 'skipped', dsn: s.dsn, reason: s.reason, cause: s.cause, permanent: s.permanent };
  return s.attempt.kind === 'open' ? { kind: 'used' } : { kind: 'failed', outcome: s.attempt.outcome, connected: s.attempt.connected };
}

/** The delivery engine's walk (core/host-walk, as deliver.ts), without sending: an open session is where mail would go. */
export function relayOutcome(steps: Step[], mxSessionLimit: number, nextHop: string): RelayOutcome {
  const end = foldHostWalk(steps.map(hostResultOf), mxSessionLimit, nextHop);
  if (end.kind === 'used') {
    const s = steps[end.index];
    return { kind: 'deliver', via: s?.kind === 'address' ? s.label : '' };
  }
  return { kind: 'refuse', outcome: end.outcome };
}

function firstDaneFailure(steps: Step[]): { dsn: string; reason: string } | null {
  for (const s of steps) {
    if (s.kind === 'skip' && isDaneFailure(s.dsn)) return { dsn: s.dsn, reason: s.reason };
    if (s.kind === 'address' && s.attempt.kind === 'failed' && isDaneFailure(s.attempt.outcome.dsn)) {
      return { dsn: s.attempt.outcome.dsn, reason: s.attempt.reason };
    }
  }
  return null;
}

export interface DomainOutcome { verdict: DomainVerdict; dsn: string | null; reason: string | null; deliverVia: string | null }

export function domainVerdict(steps: Step[], mxSessionLimit: number, nextHop: string): DomainOutcome {
  const relay = relayOutcome(steps, mxSessionLimit, nextHop);
  if (relay.kind === 'refuse') {
    const o = relay.outcome;
    return { verdict: 'fail', dsn: o.dsn, reason: o.kind === 'sent' ? null : o.diagnostic, deliverVia: null };
  }
  const dane = firstDaneFailure(steps);
  if (dane) return { verdict: 'degraded', dsn: dane.dsn, reason: dane.reason, deliverVia: relay.via };
  return { verdict: 'pass', dsn: null, reason: null, deliverVia: relay.via };
}
