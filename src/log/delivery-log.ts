/**
 * Where the delivery pipeline's events are emitted (outbound/deliver.ts calls
 * it, nothing else there builds an event): one `DeliveryLog` per job, bound
 * to its queue id and domain (RFC 7672 §9.1 audit trail, C30).
 *
 * Contract: each method builds one typed event (delivery-events.ts) from the
 * facts of a host and its TLS session and writes it through the logger; the
 * TLS fields (`tls.state` `none` without TLS, Postfix `tls=` feature, DANE
 * result, base domain, matched record and depth) are computed here only.
 * Never throws; no decision is made here.
 */
import type pino from 'pino';
import type { RefusalCause } from '../core/refusal-cause.ts';
import type { EffectivePolicy } from '../core/effective-policy.ts';
import type { ReportPolicyType } from '../core/sts-precedence.ts';
import { featureStatus, type HostFacts } from '../core/policy.ts';
import type { TlsVerdict } from '../core/tls-verdict.ts';
import {
  deliveryEventOf, emitEvent, formatDelays, hostSkippedEventOf, injectionEventOf, relayName, tlsEventOf,
  type DaneFields, type Endpoint, type TlsFields,
} from './delivery-events.ts';

/** The host facts an event needs (outbound/route `Target` has them). */
export interface LoggedHost {
  nextHop: string; mxHost: string; ip: string; port: number;
  facts: Pick<HostFacts, 'mxSecure' | 'dane'>;
  policy: Extract<EffectivePolicy, { kind: 'connect' }>;
  /** The governing policy source's TLSRPT type (core/sts-precedence), logged as `policy_type`. */
  sourced?: { policyType: ReportPolicyType };
}

/** The TLS session facts an event needs (outbound/smtp-session `TlsSessionInfo`). */
export interface LoggedTls { protocol: string | null; cipher: string | null; bits?: number; verdict: TlsVerdict; connection?: number }

export interface DeliveryTiming { receivedAt: number; start: number; setupDone: number; end: number }

export const endpointOf = (t: LoggedHost): Endpoint => ({ domain: t.nextHop, mx: t.mxHost, ip: t.ip, port: t.port });

function tlsFields(t: LoggedHost, info: LoggedTls | null | undefined): { tls: TlsFields; dane: DaneFields } {
  const verdict = info?.verdict;
  const feature = featureStatus(t.policy, { tls: !!info, ...(verdict ? { verdict } : {}) });
  return {
    tls: {
      state: verdict?.state ?? 'none', level: t.policy.level, feature,
      ...(info?.protocol ? { protocol: info.protocol } : {}), ...(info?.cipher ? { cipher: info.cipher } : {}),
      ...(info?.bits !== undefined ? { bits: info.bits } : {}),
    },
    dane: { result: t.policy.daneResult, base: t.policy.tlsaBase, match: verdict?.matched ? `${verdict.matched.record} depth=${verdict.matched.depth}` : null },
  };
}

export interface SkippedHost {
  mx: string; port: number; ip?: string; dsn: string; reason: string; cause: RefusalCause;
  policy?: { level: TlsFields['level']; daneResult: DaneFields['result'] };
  /** `policy_type` (tlsa | sts | no-policy-found) when a policy was decided for the host. */
  policyType?: ReportPolicyType;
}

export interface DeliveredRecipient { recipient: string; status: 'sent' | 'deferred' | 'bounced'; dsn: string; diagnostic: string; remoteReply?: string; cause?: RefusalCause; relay?: string }

export class DeliveryLog {
  constructor(private readonly logger: pino.Logger, private readonly qid: string, private readonly domain: string) {}

  tls(t: LoggedHost, info: LoggedTls): void {
    const tlsaSecure = t.facts.dane?.kind === 'records' || t.facts.dane?.kind === 'unusable';
    emitEvent(this.logger, tlsEventOf({
      ...endpointOf(t), qid: this.qid, mxSecure: t.facts.mxSecure, tlsaSecure, reason: t.policy.reason, ...tlsFields(t, info),
      ...(info.connection !== undefined ? { conn: info.connection } : {}),
      ...(t.sourced ? { policy_type: t.sourced.policyType } : {}),
    }));
  }

  /** C30: why a host or address was not used. */
  skipped(s: SkippedHost): void {
    emitEvent(this.logger, hostSkippedEventOf({
      qid: this.qid, domain: this.domain, mx: s.mx, port: s.port, dsn: s.dsn, reason: s.reason, cause: s.cause,
      ...(s.ip !== undefined ? { ip: s.ip } : {}), ...(s.policy ? { tls: { level: s.policy.level }, dane: { result: s.policy.daneResult } } : {}),
      ...(s.policyType ? { policy_type: s.policyType } : {}),
    }));
  }

  injection(t: LoggedHost, discardedBytes: number): void {
    emitEvent(this.logger, injectionEventOf({ ...endpointOf(t), qid: this.qid, discardedBytes }));
  }

  /** Postfix behaviour at `may` only: the handshake failed, the message goes in plaintext to the same address. */
  plaintextFallback(t: LoggedHost): void {
    this.logger.warn({ event: 'tls-fallback', qid: this.qid, ...endpointOf(t), tls: { level: t.policy.level } },
      `${relayName(endpointOf(t))}: TLS handshake failed, delivering in plaintext (level may)`);
  }

  /** One recipient's outcome; `via` is the host and session that carried it, absent when none did. */
  delivery(out: DeliveredRecipient, timing: DeliveryTiming, via?: { host: LoggedHost; tls: LoggedTls | null; uses: number; connection: number }): void {
    const setupDone = via ? timing.setupDone : timing.end;
    const { delay, delays } = formatDelays({ beforeMs: timing.start - timing.receivedAt, queueMs: 0, setupMs: setupDone - timing.start, transmitMs: timing.end - setupDone });
    const t = via?.host;
    emitEvent(this.logger, deliveryEventOf({
      qid: this.qid, rcpt: out.recipient, domain: this.domain, relay: t ? relayName(endpointOf(t)) : out.relay ?? 'none',
      ...(out.status !== 'sent' && out.cause ? { cause: out.cause } : {}),
      ...(t ? { mx: t.mxHost, ip: t.ip, port: t.port, ...tlsFields(t, via?.tls), ...(t.sourced ? { policy_type: t.sourced.policyType } : {}) } : {}),
      dsn: out.dsn, status: out.status, delay, delays, ...(via ? { connUse: via.uses, conn: via.connection } : {}),
      ...(out.remoteReply ? { remoteReply: out.remoteReply } : {}),
    }, out.diagnostic));
  }
}
