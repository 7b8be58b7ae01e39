/**
 * What an SMTP reply or a transport failure means for the recipients of one
 * delivery attempt (RFC 5321 §4.2.1, §4.5.4; RFC 3463 enhanced status codes;
 * Postfix `smtp_trouble.c` semantics).
 *
 * Contract (pure, table-driven, never throws):
 * - 2xx → `sent`; 4xx → `deferred`; 5xx → `bounced` for replies that concern
 *   recipients (RCPT TO, DATA, end of DATA) and for MAIL FROM (a 5xx there
 *   bounces every recipient of the transaction);
 * - the greeting, EHLO and STARTTLS replies (4xx or 5xx) and every network
 *   failure (connect, lost connection, timeout) → `next-host`: this server is
 *   not used, the next MX host/address is tried; when none is left the caller
 *   defers with the last `next-host` outcome (Postfix also skips 5xx greetings,
 *   `smtp_skip_5xx_greeting = yes`, so its DSN class is lowered to 4);
 * - the DSN code is the reply's enhanced status code when its class matches the
 *   reply class, else `<class>.0.0`; network failures use 4.4.1 (connect) and
 *   4.4.2 (lost connection, timeout);
 * - diagnostics use Postfix's wording: `host H[ip] said: 550 5.1.1 … (in reply
 *   to RCPT TO command)`, `connect to H[ip]:25: Connection refused`, `lost
 *   connection with H[ip] while sending message body`.
 * A mismatch or TLS failure is not decided here (core/policy, verify step): it
 * never bounces (C16).
 */

/** Where in the SMTP conversation a reply or failure happened. */
export type SmtpStage =
  | 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'tls-handshake'
  | 'mail' | 'rcpt' | 'data' | 'message' | 'reset';

export interface SmtpReply {
  /** Three-digit reply code, e.g. 550. */
  code: number;
  /** RFC 3463 enhanced status code from the reply text, when present and of the same class. */
  enhanced: string | null;
  /** The whole reply on one line (continuation lines joined with a space). */
  text: string;
}

export type SessionFailure =
  | { kind: 'reply'; stage: SmtpStage; reply: SmtpReply }
  | {
      kind: 'network';
      stage: SmtpStage;
      /** `timeout`, `refused`, `closed`, or any other short tag. */
      cause: 'timeout' | 'refused' | 'closed' | 'error';
      detail: string;
    };

/** The server that was talked to, for diagnostics: `name[ip]` and port. */
export interface HostLabel { name: string; ip: string; port: number }

/** A failure: its DSN, Postfix-wording diagnostic, typed cause (core/refusal-cause.ts) and the server's reply if any. */
interface Failed { dsn: string; diagnostic: string; cause: RefusalCause; remoteReply?: string }

export type AttemptOutcome =
  | { kind: 'sent'; dsn: string; reply: string }
  | ({ kind: 'deferred' } & Failed)
  | ({ kind: 'bounced' } & Failed)
  | ({ kind: 'next-host' } & Failed);

import type { RefusalCause } from './refusal-cause.ts';

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/;

/**
 * Parses a raw SMTP reply (`550-5.1.1 first\r\n550 5.1.1 second`). Returns
 * null when it does not start with a three-digit code.
 */
export function parseReply(raw: string): SmtpReply | null {
  const lines = raw.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const first = lines[0];
  const m = first === undefined ? null : /^([2-5]\d\d)(?:[ -](.*))?$/.exec(first);
  if (!m) return null;
  const code = Number(m[1]);
  const firstText = (m[2] ?? '').trim();
  const em = ENHANCED.exec(firstText);
  const enhanced = em && Number(em[1]) === Math.floor(code / 100) ? em[0] : null;
  const rest = lines.slice(1).map((l) => l.replace(/^\d{3}[ -]?/, '').replace(ENHANCED, '').trim());
  const text = [`${code}${firstText ? ' ' + firstText : ''}`, ...rest.filter((r) => r.length > 0)].join(' ');
  return { code, enhanced, text };
}

/** The DSN code for a reply: its enhanced code when present, else `<class>.0.0`. */
export function dsnOfReply(reply: SmtpReply): string {
  return reply.enhanced ?? `${Math.floor(reply.code / 100)}.0.0`;
}

/** `mx.example.net[192.0.2.1]` */
export function hostName(host: HostLabel): string {
  return `${host.name}[${host.ip}]`;
}

const COMMAND: Record<SmtpStage, string> = {
  connect: 'connect', greeting: 'the initial server greeting', ehlo: 'EHLO', starttls: 'STARTTLS',
  'tls-handshake': 'STARTTLS', mail: 'MAIL FROM', rcpt: 'RCPT TO', data: 'DATA', message: 'end of DATA', reset: 'RSET',
};

const WHILE: Record<SmtpStage, string> = {
  connect: 'connecting', greeting: 'receiving the initial server greeting', ehlo: 'performing the EHLO handshake',
  starttls: 'performing the STARTTLS handshake', 'tls-handshake': 'performing the TLS handshake',
  mail: 'sending MAIL FROM', rcpt: 'sending RCPT TO', data: 'sending DATA command', message: 'sending message body',
  reset: 'sending RSET',
};

/** Postfix: `host H[ip] said: <reply> (in reply to <CMD> command)`; greeting: `refused to talk to me`. */
export function replyDiagnostic(host: HostLabel, stage: SmtpStage, reply: SmtpReply): string {
  if (stage === 'greeting' || stage === 'connect') return `host ${hostName(host)} refused to talk to me: ${reply.text}`;
  return `host ${hostName(host)} said: ${reply.text} (in reply to ${COMMAND[stage]} command)`;
}

/** Session-level stages: a failure here means "this server is not usable now". */
function isSessionStage(stage: SmtpStage): boolean {
  return stage === 'connect' || stage === 'greeting' || stage === 'ehlo' || stage === 'starttls'
    || stage === 'tls-handshake' || stage === 'reset';
}

/** Lowers a 5.x.y DSN to 4.x.y: the server was skipped, the message is not refused. */
function soften(dsn: string): string {
  return dsn.startsWith('5.') ? `4.${dsn.slice(2)}` : dsn;
}

/** A reply to a command of the transaction (MAIL, RCPT, DATA, end of DATA) or of the session set-up. */
export function classifyReply(host: HostLabel, stage: SmtpStage, reply: SmtpReply): AttemptOutcome {
  const cls = Math.floor(reply.code / 100);
  const dsn = dsnOfReply(reply);
  if (cls === 2 || cls === 3) return { kind: 'sent', dsn: cls === 2 ? dsn : '2.0.0', reply: reply.text };
  const diagnostic = replyDiagnostic(host, stage, reply);
  const cause: RefusalCause = cls === 4 ? 'remote_tempfail' : 'remote_reject';
  if (isSessionStage(stage)) return { kind: 'next-host', dsn: soften(dsn), diagnostic, cause, remoteReply: reply.text };
  if (cls === 4) return { kind: 'deferred', dsn, diagnostic, cause, remoteReply: reply.text };
  return { kind: 'bounced', dsn, diagnostic, cause, remoteReply: reply.text };
}

/** A transport failure: always `next-host` (RFC 5321 §5.1: try the next address), DSN 4.4.1/4.4.2. */
export function classifyNetworkFailure(host: HostLabel, stage: SmtpStage, cause: 'timeout' | 'refused' | 'closed' | 'error', detail: string): AttemptOutcome {
  if (stage === 'connect') {
    const what = cause === 'timeout' ? 'Connection timed out' : detail;
    return { kind: 'next-host', dsn: '4.4.1', diagnostic: `connect to ${hostName(host)}:${host.port}: ${what}`, cause: 'connection_failure' };
  }
  if (cause === 'timeout') {
    return { kind: 'next-host', dsn: '4.4.2', diagnostic: `conversation with ${hostName(host)} timed out while ${WHILE[stage]}`, cause: 'connection_failure' };
  }
  return { kind: 'next-host', dsn: '4.4.2', diagnostic: `lost connection with ${hostName(host)} while ${WHILE[stage]}`, cause: 'connection_failure' };
}

/** Either kind of session failure. */
export function classifyFailure(host: HostLabel, failure: SessionFailure): AttemptOutcome {
  return failure.kind === 'reply'
    ? classifyReply(host, failure.stage, failure.reply)
    : classifyNetworkFailure(host, failure.stage, failure.cause, failure.detail);
}

/** The outcome for recipients left over when no host is left to try: deferred with the last reason. */
export function noHostLeft(last: AttemptOutcome | null, fallback: { dsn: string; diagnostic: string; cause: RefusalCause }): AttemptOutcome {
  if (last && last.kind === 'next-host') {
    return { kind: 'deferred', dsn: soften(last.dsn), diagnostic: last.diagnostic, cause: last.cause, ...(last.remoteReply ? { remoteReply: last.remoteReply } : {}) };
  }
  if (last && last.kind !== 'sent') return last;
  return { kind: 'deferred', dsn: fallback.dsn, diagnostic: fallback.diagnostic, cause: fallback.cause };
}
