/**
 * Normalises what nodemailer's SMTPConnection tells us into core/outcome
 * values. Part of the nodemailer adapter (with smtp-session.ts, session.ts):
 * no other module reads nodemailer error shapes or its log lines.
 *
 * Contract:
 * - `SessionTap` is the bunyan-style logger given to SMTPConnection (with
 *   `transactionLog`): it tracks the SMTP stage from the commands sent, keeps
 *   the plaintext EHLO reply (to tell "STARTTLS not offered" from "refused"),
 *   and counts bytes nodemailer discarded after the STARTTLS reply (C32).
 *   It keeps no message content and a bounded amount of text. It also
 *   drives the session's `StageClock` (deadline.ts): commands sent, replies
 *   received, connection established, TLS upgraded, body written.
 * - A stage whose deadline passed (`timedOut`) is a timeout at that stage:
 *   4.4.2 `conversation with H[ip] timed out while …` (4.4.1 at connect),
 *   never a handshake failure (so never the plaintext retry at `may`).
 * - `errorToFailure` maps a set-up error to a `next-host` outcome and a
 *   Postfix-wording reason: required TLS not offered/refused → 4.7.4, TLS
 *   handshake failure (any error after STARTTLS was accepted and before the
 *   handshake completed) → 4.7.5 (`Cannot start TLS: handshake failure`),
 *   greeting/EHLO replies and network errors per core/outcome.
 */
import type { RefusalCause } from '../core/refusal-cause.ts';
import type { StageClock } from './deadline.ts';
import {
  classifyFailure, hostName, parseReply, type AttemptOutcome, type HostLabel, type SessionFailure, type SmtpStage,
} from '../core/outcome.ts';

export interface NodemailerError extends Error {
  code?: string;
  originalCode?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  recipient?: string;
  rejected?: string[];
  rejectedErrors?: NodemailerError[];
}

type LogFn = (entry?: unknown, message?: unknown, ...args: unknown[]) => void;

const COMMAND_STAGE: Array<[RegExp, SmtpStage]> = [
  [/^EHLO\b|^HELO\b/i, 'ehlo'], [/^STARTTLS\b/i, 'starttls'], [/^MAIL FROM\b/i, 'mail'],
  [/^RCPT TO\b/i, 'rcpt'], [/^DATA\b/i, 'data'], [/^RSET\b/i, 'reset'],
];

export class SessionTap {
  stage: SmtpStage = 'connect';
  connected = false;
  closed = false;
  injectionBytes = 0;
  /** The last EHLO reply received before TLS (bounded). */
  plaintextEhlo = '';
  lastError: NodemailerError | undefined;
  /** A stage deadline passed; `stage` is the stage that was being waited on. */
  timedOut = false;
  /** The stage clock of this connection, fed from nodemailer's transaction log. */
  clock: StageClock | undefined;
  /** Called when the TCP connection is established (the adapter keeps the plain socket). */
  onEstablished: (() => void) | undefined;
  private secure = false;
  readonly logger: Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', LogFn>;

  constructor() {
    const ignore: LogFn = () => undefined;
    this.logger = {
      trace: ignore, fatal: ignore, error: ignore,
      debug: (entry, message) => this.onLine(entry, message),
      info: (entry, message) => this.onInfo(entry, message),
      warn: (entry) => this.onWarn(entry),
    };
  }

  private onInfo(entry: unknown, message: unknown): void {
    const tnx = (entry as { tnx?: string } | undefined)?.tnx;
    if (typeof message !== 'string') return;
    if (tnx === 'network' && message.includes('established')) {
      this.connected = true;
      if (this.stage === 'connect') this.stage = 'greeting';
      this.onEstablished?.();
      this.clock?.established();
    }
    if (message.includes('upgraded with STARTTLS')) {
      this.secure = true;
      this.clock?.upgraded();
    }
    if (tnx === 'message') this.clock?.bodyWritten(); // nodemailer logs the end of the body stream
  }

  /** The deadline of `stage` passed: later errors are read as a timeout there. */
  expire(stage: SmtpStage | 'quit'): void {
    this.timedOut = true;
    if (stage !== 'quit') this.stage = stage;
  }

  private onWarn(entry: unknown): void {
    const discarded = (entry as { discarded?: unknown } | undefined)?.discarded;
    if (typeof discarded === 'number' && discarded > 0) this.injectionBytes += discarded;
  }

  private onLine(entry: unknown, message: unknown): void {
    const tnx = (entry as { tnx?: string } | undefined)?.tnx;
    if (typeof message !== 'string') return;
    if (tnx === 'client') {
      this.clock?.command(message);
      const hit = COMMAND_STAGE.find(([re]) => re.test(message));
      if (hit) this.stage = hit[1];
      return;
    }
    if (tnx !== 'server') return;
    this.clock?.reply(message);
    if (this.stage === 'ehlo' && !this.secure) this.plaintextEhlo = message.slice(0, 4096);
    if (this.stage === 'starttls' && message.startsWith('2')) this.stage = 'tls-handshake';
    if (this.stage === 'data' && message.startsWith('354')) this.stage = 'message';
  }

  /** Whether the plaintext EHLO reply advertised STARTTLS. */
  offeredStarttls(): boolean {
    return /^\d{3}[ -]STARTTLS\b/im.test(this.plaintextEhlo);
  }
}

export function failureOutcome(dsn: string, diagnostic: string, cause: RefusalCause): AttemptOutcome {
  return { kind: 'next-host', dsn, diagnostic, cause };
}

/** A network-level failure as core/outcome sees it. */
export function networkFailure(err: NodemailerError, stage: SmtpStage, timedOut = false): SessionFailure {
  const code = err.originalCode ?? err.code ?? '';
  const cause = timedOut || err.code === 'ETIMEDOUT' || code === 'ETIMEDOUT' ? 'timeout'
    : code === 'ECONNREFUSED' ? 'refused'
    : /closed/i.test(err.message) ? 'closed' : 'error';
  const detail = cause === 'refused' ? 'Connection refused' : err.message.replace(/\s+/g, ' ').slice(0, 200);
  return { kind: 'network', stage, cause, detail };
}

export interface SetupFailure {
  outcome: AttemptOutcome;
  reason: string;
  handshakeFailed: boolean;
  /** STARTTLS was not offered, refused, or its handshake failed (TLSRPT `starttls-not-supported`, RFC 8460 §4.3.1). */
  tlsNotEstablished?: true;
}

/** An error during connect/greeting/EHLO/STARTTLS → why this address is not used. */
export function errorToFailure(err: NodemailerError, tap: SessionTap, host: HostLabel): SetupFailure {
  if (tap.timedOut) {
    // A stage deadline passed (issue 19): a transient failure of this host, never a TLS fallback.
    const outcome = classifyFailure(host, { kind: 'network', stage: tap.connected ? tap.stage : 'connect', cause: 'timeout', detail: 'deadline' });
    return { outcome, reason: outcome.kind === 'sent' ? '' : outcome.diagnostic, handshakeFailed: false };
  }
  const reply = err.response ? parseReply(err.response) : null;
  // STARTTLS was accepted and the handshake did not complete (nodemailer reports ETLS or ESOCKET).
  const inHandshake = tap.stage === 'tls-handshake' && !reply;
  if (err.code === 'ETLS' || inHandshake) {
    if (reply) {
      // C14: mandatory TLS and no STARTTLS (not advertised, or refused): this host is not used.
      const reason = tap.offeredStarttls()
        ? `TLS is required, but host ${hostName(host)} refused to start TLS: ${reply.text}`
        : `TLS is required, but was not offered by host ${hostName(host)}`;
      return { outcome: failureOutcome('4.7.4', reason, 'starttls_missing'), reason, handshakeFailed: false, tlsNotEstablished: true };
    }
    const reason = 'Cannot start TLS: handshake failure';
    return { outcome: failureOutcome('4.7.5', `${reason} with ${hostName(host)}`, 'tls_failure'), reason, handshakeFailed: true, tlsNotEstablished: true };
  }
  if (reply) {
    const stage: SmtpStage = tap.stage === 'connect' || tap.stage === 'greeting' ? 'greeting' : tap.stage;
    const outcome = classifyFailure(host, { kind: 'reply', stage, reply });
    return { outcome, reason: outcome.kind === 'sent' ? reply.text : outcome.diagnostic, handshakeFailed: false };
  }
  const stage = tap.connected ? tap.stage : 'connect';
  const outcome = classifyFailure(host, networkFailure(err, stage));
  return { outcome, reason: outcome.kind === 'sent' ? '' : outcome.diagnostic, handshakeFailed: false };
}
