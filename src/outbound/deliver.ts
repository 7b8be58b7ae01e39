/**
 * The delivery pipeline for one job (one message, one next-hop domain):
 * plan the route, walk the targets in order (core/host-walk decides what
 * each host's result means), open (or reuse) a verified session, send, turn
 * replies into per-recipient outcomes. Every event goes out through
 * log/delivery-log; a session carries its own TLS details (`session.tls`).
 *
 * Contract:
 * - never throws for DNS/TLS/SMTP outcomes; every recipient gets exactly one
 *   `RecipientOutcome`;
 * - skipped hosts (TLSA lookup error C4, failed verification C16, required TLS
 *   not offered C14, connection failures) are logged and the next target is
 *   tried; recipients still pending when the targets (or the session limit)
 *   run out are deferred with the last reason (never bounced for TLS reasons);
 * - 4xx RCPT/DATA replies defer, 5xx bounce, with the remote reply quoted;
 * - the MX session limit counts sessions that reached the server;
 * - at `may` only, a handshake failure is followed by one plaintext attempt
 *   to the same address (smtp-session.ts), logged as `tls-fallback`;
 * - a message body that cannot be opened defers with 4.3.0 (local error);
 * - the policy of each host arrives decided (route.ts: core/policy, then
 *   core/sts-precedence); nothing here chooses between DANE and MTA-STS;
 *   every new session and every host a policy refused is recorded
 *   for TLSRPT (`deps.tlsrpt`, RFC 8460 §4), a pooled session is not a new
 *   negotiation and is not recorded again.
 * - DSN (RFC 3461): RET/ENVID and each recipient's NOTIFY/ORCPT go to a server
 *   that offers DSN, in one transaction (session.ts); a sent outcome says
 *   whether the server offered DSN (`hopOffersDsn`: the queue sends a
 *   `relayed` DSN for NOTIFY=SUCCESS otherwise);
 * - REQUIRETLS (RFC 8689 §4.2.1, core/requiretls): a host without DANE
 *   authentication is not connected to; a session that is not Verified or
 *   whose EHLO lacks REQUIRETLS is not used (nothing sent, kept for the pool);
 *   both are permanent host failures for the walk (5.7.30 when every host
 *   refused, soft before); REQUIRETLS is passed on in MAIL FROM;
 * - TLS-Required: No (`job.tlsOptional`, only when the operator enabled it):
 *   the host's policy is relaxed to `may` for this message, logged
 *   (`tls-required-no`), and pooled apart (the pool key includes the policy).
 */
import type pino from 'pino';
import { endOfWalk, nextMove, recordHost, startHostWalk, type HostResult } from '../core/host-walk.ts';
import { classifyFailure, classifyReply, type AttemptOutcome, type HostLabel } from '../core/outcome.ts';
import { relaxForTlsRequiredNo, requireTlsHost, requireTlsSession, type RequireTlsCheck } from '../core/requiretls.ts';
import type { DeliveryJob, RecipientOutcome } from '../queue/deliverer.ts';
import { relayName } from '../log/delivery-events.ts';
import { DeliveryLog, endpointOf } from '../log/delivery-log.ts';
import { planRoute, type RouteContext, type SkipEntry, type Target } from './route.ts';
import { openVerifiedSession, type SessionSettings } from './smtp-session.ts';
import { poolKey, type SessionPool } from './session-pool.ts';
import type { SendResult, SmtpSession } from './session.ts';
import type { AttemptSite, TlsrptRecorder } from '../tlsrpt/recorder.ts';

export interface EngineDeps {
  route: RouteContext;
  session: SessionSettings;
  pool: SessionPool;
  logger: pino.Logger;
  mxSessionLimit: number;
  /** TLSRPT attempt recording (tlsrpt.record); null: off. */
  tlsrpt?: TlsrptRecorder | null;
  now?: () => number;
}

interface Timing { start: number; setupDone: number }

interface TargetResult { outcomes: Map<string, AttemptOutcome>; nextHost: AttemptOutcome | null; connected: boolean; permanent?: boolean; hopOffersDsn?: boolean }

const hostOf = (t: Target): HostLabel => ({ name: t.mxHost, ip: t.ip, port: t.port });

const siteOf = (t: Target): AttemptSite => ({ nextHop: t.nextHop, mxHost: t.mxHost, ip: t.ip, sourced: t.sourced, sts: t.sts, dane: t.facts.dane });

/** A session for the target: an idle pooled one (after RSET) or a new verified one. */
async function sessionFor(deps: EngineDeps, log: DeliveryLog, t: Target, key: string): Promise<{ session: SmtpSession } | { failed: AttemptOutcome; connected: boolean }> {
  const pooled = deps.pool.enabled ? await deps.pool.acquire(key) : null;
  if (pooled) return { session: pooled };
  const open = await openVerifiedSession(t, deps.session);
  await deps.tlsrpt?.session(siteOf(t), open);
  if (open.injectionBytes > 0) log.injection(t, open.injectionBytes);
  if (open.kind === 'failed') {
    if (open.tls) log.tls(t, open.tls);
    const dsn = open.outcome.kind === 'sent' ? '4.0.0' : open.outcome.dsn;
    log.skipped({ mx: t.mxHost, ip: t.ip, port: t.port, dsn, reason: open.reason, cause: open.outcome.kind === 'sent' ? 'other' : open.outcome.cause, policy: t.policy, policyType: t.sourced.policyType });
    return { failed: open.outcome, connected: open.connected };
  }
  if (open.tls) log.tls(t, open.tls);
  if (open.plaintextFallback) log.plaintextFallback(t); // Postfix behaviour at `may` only
  open.session.tls = open.tls;
  return { session: open.session };
}

/** Per-recipient outcomes from one send. */
function outcomesOf(host: HostLabel, recipients: string[], r: SendResult): TargetResult {
  const outcomes = new Map<string, AttemptOutcome>();
  if (r.kind === 'broken') return { outcomes, nextHost: classifyFailure(host, { kind: 'network', stage: r.stage, cause: r.cause, detail: r.detail }), connected: true };
  if (r.kind === 'unsupported') {
    for (const rcpt of recipients) outcomes.set(rcpt, { kind: 'bounced', dsn: r.dsn, diagnostic: r.detail, cause: 'feature_unsupported' });
    return { outcomes, nextHost: null, connected: true };
  }
  if (r.kind === 'local') {
    for (const rcpt of recipients) outcomes.set(rcpt, { kind: 'deferred', dsn: '4.3.0', diagnostic: `local error while sending to ${host.name}[${host.ip}]: ${r.detail}`, cause: 'local_error' });
    return { outcomes, nextHost: null, connected: true };
  }
  for (const rej of r.rejected) outcomes.set(rej.recipient, classifyReply(host, 'rcpt', rej.reply));
  for (const rcpt of recipients) {
    if (outcomes.has(rcpt)) continue;
    outcomes.set(rcpt, r.kind === 'done' ? classifyReply(host, 'message', r.reply) : classifyReply(host, r.stage, r.reply));
  }
  return { outcomes, nextHost: null, connected: true };
}

/** A REQUIRETLS refusal: this host is not used; permanent for the walk (RFC 8689 §4.2.1). */
function refused(log: DeliveryLog, t: Target, r: Extract<RequireTlsCheck, { kind: 'refuse' }>, connected: boolean): TargetResult {
  log.skipped({ mx: t.mxHost, ip: t.ip, port: t.port, dsn: r.dsn, reason: r.reason, cause: 'requiretls_unavailable', policy: t.policy });
  return { outcomes: new Map(), nextHost: { kind: 'next-host', dsn: r.dsn, diagnostic: r.reason, cause: 'requiretls_unavailable' }, connected, permanent: true };
}

/** The target as this message may use it: TLS-Required: No relaxes its policy (RFC 8689 §4.2). */
function targetFor(deps: EngineDeps, job: DeliveryJob, t: Target): Target {
  if (!job.tlsOptional || t.policy.level === 'may' || t.policy.level === 'none') return t;
  deps.logger.warn({ event: 'tls-required-no', qid: job.queueId, mx: t.mxHost, ip: t.ip, port: t.port, tls: { level: t.policy.level } },
    `${job.queueId}: TLS-Required: No header honoured for ${t.mxHost}[${t.ip}]:${t.port}: TLS level ${t.policy.level} relaxed to may (RFC 8689)`);
  return { ...t, policy: relaxForTlsRequiredNo(t.policy) };
}

async function tryTarget(deps: EngineDeps, log: DeliveryLog, job: DeliveryJob, target: Target, recipients: string[], timing: Timing): Promise<TargetResult & { session?: SmtpSession }> {
  const t = targetFor(deps, job, target);
  if (job.requireTls) {
    const pre = requireTlsHost(t.policy.auth, t.mxHost);
    if (pre.kind === 'refuse') return refused(log, t, pre, false);
  }
  const key = poolKey(t);
  const got = await sessionFor(deps, log, t, key);
  if ('failed' in got) return { outcomes: new Map(), nextHost: got.failed, connected: got.connected };
  if (job.requireTls) {
    const post = requireTlsSession(got.session.tls?.verdict.state ?? null, got.session.offers('REQUIRETLS'), `${t.mxHost}[${t.ip}]`);
    if (post.kind === 'refuse') {
      deps.pool.release(key, got.session); // nothing was sent: the session is still clean
      return refused(log, t, post, true);
    }
  }
  timing.setupDone = (deps.now ?? Date.now)();
  let body: ReturnType<DeliveryJob['openBody']>;
  try {
    body = job.openBody();
  } catch (err) {
    deps.pool.release(key, got.session); // nothing was sent: the session is still clean
    return { ...outcomesOf(hostOf(t), recipients, { kind: 'local', detail: `cannot read the message: ${(err as Error).message}` }), session: got.session };
  }
  const result = await got.session.send({
    sender: job.sender, recipients, size: job.size, eightBit: job.eightBit,
    ...(job.dsn ? { dsn: job.dsn } : {}), ...(job.recipientDsn ? { recipientDsn: job.recipientDsn } : {}), ...(job.requireTls ? { requireTls: true } : {}),
  }, body);
  const out = outcomesOf(hostOf(t), recipients, result);
  const hopOffersDsn = got.session.offers('DSN');
  deps.pool.release(key, got.session);
  return { ...out, session: got.session, hopOffersDsn };
}

function toRecipientOutcome(rcpt: string, o: AttemptOutcome, relay?: string, hopOffersDsn?: boolean): RecipientOutcome {
  if (o.kind === 'sent') return { recipient: rcpt, status: 'sent', dsn: o.dsn, diagnostic: o.reply, remoteReply: o.reply, ...(relay ? { relay } : {}), hopOffersDsn: hopOffersDsn === true };
  const status = o.kind === 'bounced' ? 'bounced' : 'deferred';
  return { recipient: rcpt, status, dsn: o.dsn, diagnostic: o.diagnostic, cause: o.cause, ...(relay ? { relay } : {}), ...(o.remoteReply ? { remoteReply: o.remoteReply } : {}) };
}

/** One job's delivery: what every step needs. */
interface JobRun { deps: EngineDeps; log: DeliveryLog; job: DeliveryJob; timing: Timing; final: Map<string, RecipientOutcome> }

/**
 * Where an outcome came from: the session that carried the recipient, or, when none did,
 * the server the last reason came from (`relay`, Postfix's status line), null for none.
 */
type Via = { target: Target; session?: SmtpSession; hopOffersDsn?: boolean } | { relay: string | null };

function settle(run: JobRun, rcpt: string, o: AttemptOutcome, via: Via): void {
  const carried = 'target' in via ? via : null;
  const relay = carried ? relayName(endpointOf(carried.target)) : 'relay' in via ? via.relay ?? undefined : undefined;
  const out = toRecipientOutcome(rcpt, o, relay, carried?.hopOffersDsn);
  run.final.set(rcpt, out);
  const at = { receivedAt: run.job.receivedAt, start: run.timing.start, setupDone: run.timing.setupDone, end: (run.deps.now ?? Date.now)() };
  const s = carried?.session;
  run.log.delivery(out, at, carried && s ? { host: carried.target, tls: s.tls, uses: s.uses, connection: s.connection } : undefined);
}

/** Deliver one job; see the module contract. */
export async function deliverJob(deps: EngineDeps, job: DeliveryJob): Promise<RecipientOutcome[]> {
  const run: JobRun = { deps, log: new DeliveryLog(deps.logger, job.queueId, job.domain), job, timing: { start: (deps.now ?? Date.now)(), setupDone: 0 }, final: new Map() };
  const plan = await planRoute(deps.route, job.domain);
  if (plan.kind === 'final') {
    return finish(run, { kind: plan.status, dsn: plan.dsn, diagnostic: plan.diagnostic, cause: plan.cause }, null);
  }
  let walk = startHostWalk();
  for (const entry of plan.entries) {
    if (nextMove(walk, entry.kind === 'skip' ? 'skip' : 'host', deps.mxSessionLimit).kind === 'stop') break;
    if (entry.kind === 'skip') { walk = recordHost(walk, await skipped(deps, run.log, plan.nextHop, entry)); continue; }
    const pending = job.recipients.filter((r) => !run.final.has(r));
    if (pending.length === 0) break;
    const r = await tryTarget(deps, run.log, job, entry.target, pending, run.timing);
    for (const [rcpt, o] of r.outcomes) settle(run, rcpt, o, { target: entry.target, session: r.session, hopOffersDsn: r.hopOffersDsn });
    walk = recordHost(walk, r.nextHost ? { kind: 'failed', outcome: r.nextHost, connected: r.connected, relay: relayName(endpointOf(entry.target)), ...(r.permanent ? { permanent: true } : {}) } : { kind: 'used' });
  }
  const end = endOfWalk(walk, plan.nextHop);
  return finish(run, end.outcome, end.relay);
}

/** C4: a host the route skipped; the reason is logged (and, when a policy refused it, reported) and kept by the walk. */
async function skipped(deps: EngineDeps, log: DeliveryLog, nextHop: string, e: SkipEntry): Promise<HostResult> {
  const p = e.resolution.policy;
  log.skipped({ mx: e.mxHost, port: e.port, dsn: e.dsn, reason: e.reason, cause: e.cause, ...(p ? { policy: p } : {}), ...(e.sourced ? { policyType: e.sourced.policyType } : {}) });
  if (e.sourced && e.sts) {
    await deps.tlsrpt?.skipped({ nextHop, mxHost: e.mxHost, sourced: e.sourced, sts: e.sts, dane: e.resolution.facts?.dane ?? null });
  }
  return { kind: 'skipped', dsn: e.dsn, reason: e.reason, cause: e.cause, permanent: e.permanent };
}

/**
 * The recipients still pending get `o` (no host carried them); `relay` names the server the
 * reason came from when it was connected to (Postfix's status line), else `relay=none`.
 * Every recipient has exactly one outcome.
 */
function finish(run: JobRun, o: AttemptOutcome, relay: string | null): RecipientOutcome[] {
  for (const rcpt of run.job.recipients.filter((r) => !run.final.has(r))) settle(run, rcpt, o, { relay });
  return run.job.recipients.map((r) => run.final.get(r) ?? toRecipientOutcome(r, { kind: 'deferred', dsn: '4.3.0', diagnostic: 'internal: no outcome', cause: 'other' }));
}
