/**
 * Records every delivery attempt's TLS result for TLSRPT (RFC 8460 §4.3,
 * §4.4): the delivery engine (outbound/deliver.ts) tells it what happened at
 * one host, this module turns that into the stored attempt
 * (tlsrpt/attempt.ts `tlsrptAttempt`) and appends it to the store.
 *
 * Contract:
 * - `skipped(site)`: a host a policy refused before connecting (typed
 *   `skipReason`: TLSA lookup failed → `dnssec-invalid`, dane-only →
 *   `dane-required`, MTA-STS MX mismatch → `validation-failure`, `_mta-sts`
 *   lookup failed → `sts-policy-fetch-error`);
 * - `session(site, result)`: a new SMTP session (a pooled session is not a
 *   new TLS negotiation and is not counted again): TLS up → success or the
 *   authentication failure of the governing policy; required TLS not
 *   established → `starttls-not-supported`; a session opened in plaintext
 *   where TLS was optional → success of `no-policy-found`; a failure before
 *   any TLS question (connection refused, greeting refused, timeout) is no
 *   TLS result and is not recorded;
 * - MTA-STS `testing` (RFC 8461 §5): the report says what `enforce` would
 *   have said: MX outside the patterns → `validation-failure`, otherwise
 *   the chain the server presented is checked against PKIX + the MX host
 *   name by core `verifyPeer` (report only: delivery is already decided);
 * - never throws and never delays delivery with an error: a store write
 *   error goes to `onError` (reporting must never stop mail).
 */
import type { X509Certificate } from 'node:crypto';
import type { DaneStatus } from '../core/dane-status.ts';
import type { EffectivePolicy } from '../core/effective-policy.ts';
import { skipReason, type SourcedPolicy, type StsState } from '../core/sts-precedence.ts';
import type { PresentedChain, TlsVerdict } from '../core/tls-verdict.ts';
import { verifyPeer } from '../core/verify-peer.ts';
import { tlsrptAttempt } from './attempt.ts';
import type { AttemptFacts } from './result-types.ts';
import type { TlsrptStore } from './store.ts';

/** Where the attempt happened and which policy governed it (outbound/route `Target` / `SkipEntry` carry these). */
export interface AttemptSite {
  nextHop: string;
  mxHost: string;
  ip?: string;
  sourced: SourcedPolicy;
  sts: StsState;
  dane: DaneStatus | null;
}

/** What a new session gave (outbound/smtp-session `OpenResult`, reduced to what TLSRPT needs). */
export type SessionResult =
  | { kind: 'open'; tls: { verdict: TlsVerdict; chain?: PresentedChain } | null }
  | { kind: 'failed'; tls?: { verdict: TlsVerdict; chain?: PresentedChain }; tlsNotEstablished?: boolean };

export interface RecorderDeps {
  store: Pick<TlsrptStore, 'record'>;
  trustAnchors: X509Certificate[];
  now?: () => number;
  onError: (err: Error) => void;
}

type Facts = { facts: AttemptFacts; tlsRequired: boolean };

function governed(policy: EffectivePolicy, r: SessionResult): Facts | null {
  const required = policy.kind === 'connect' && policy.tlsRequired;
  const auth = policy.kind === 'connect' ? policy.auth.kind : 'none';
  if (r.tls) return { facts: { kind: 'tls', auth, verdict: r.tls.verdict }, tlsRequired: required };
  if (r.kind === 'failed') return r.tlsNotEstablished ? { facts: { kind: 'no-tls' }, tlsRequired: true } : null;
  return { facts: { kind: 'no-tls' }, tlsRequired: required };
}

/** RFC 8461 §5 testing: what enforce would have said, for the report only. */
function testing(t: NonNullable<SourcedPolicy['stsTesting']>, r: SessionResult, ctx: { now: Date; trustAnchors: X509Certificate[] }): Facts | null {
  if (!t.mxAllowed) return { facts: { kind: 'skipped', why: 'sts_mx_mismatch' }, tlsRequired: true };
  if (r.tls?.chain) return { facts: { kind: 'tls', auth: 'pkix', verdict: verifyPeer(t.auth, r.tls.chain, ctx) }, tlsRequired: true };
  if (r.kind === 'open' || r.tlsNotEstablished) return { facts: { kind: 'no-tls' }, tlsRequired: true };
  return null;
}

export class TlsrptRecorder {
  constructor(private readonly deps: RecorderDeps) {}

  private write(site: AttemptSite, f: Facts): Promise<void> {
    const tlsa = site.dane && (site.dane.kind === 'records' || site.dane.kind === 'unusable') ? site.dane.rrset : [];
    const attempt = tlsrptAttempt({
      at: (this.deps.now ?? Date.now)(), policyDomain: site.nextHop, policyType: site.sourced.policyType, sts: site.sts,
      tlsa, mxHost: site.mxHost, ...(site.ip ? { receivingIp: site.ip } : {}), facts: f.facts, tlsRequired: f.tlsRequired,
    });
    return this.deps.store.record(attempt).catch((err: Error) => this.deps.onError(err));
  }

  /** A host a policy refused before any connection. */
  skipped(site: AttemptSite): Promise<void> {
    const why = skipReason(site.sourced);
    if (why === null) return Promise.resolve();
    return this.write(site, { facts: { kind: 'skipped', why }, tlsRequired: true });
  }

  /** A new session to `site` (opened or failed). */
  session(site: AttemptSite, r: SessionResult): Promise<void> {
    const t = site.sourced.stsTesting;
    const now = new Date((this.deps.now ?? Date.now)());
    const f = t ? testing(t, r, { now, trustAnchors: this.deps.trustAnchors }) : governed(site.sourced.policy, r);
    return f ? this.write(site, f) : Promise.resolve();
  }
}
