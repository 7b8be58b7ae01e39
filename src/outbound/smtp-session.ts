/**
 * The one nodemailer adapter: open an SMTP session to one address, do STARTTLS
 * as the effective policy requires, verify the peer AFTER the handshake and
 * BEFORE MAIL FROM, send messages, normalise nodemailer's error shapes
 * (RFC 3207, RFC 7672 §2.2 and §3; checklist C14, C16, C17, C32).
 *
 * Contract:
 * - STARTTLS flags: `requireTLS` whenever TLS is mandatory (a missing, refused
 *   or failing STARTTLS ends the attempt, C14); `opportunisticTLS` only at
 *   `may`; `ignoreTLS` at `none`. At `may` a failed handshake is retried once
 *   in plaintext to the same address (Postfix); never at higher levels.
 * - The TLS client gets `rejectUnauthorized: false`, SNI = policy.sni (none
 *   when null, C17) and a `ca` that can issue nothing (trust-store.ts), so the
 *   chain seen is only what the server sent. In the connect callback the
 *   socket is checked (`conn.secure === true`, `instanceof tls.TLSSocket`),
 *   the chain is read and core `verifyPeer` decides; when it says no, QUIT is
 *   sent and MAIL FROM never is (C16). `checkServerIdentity` is not used.
 * - Bytes the server sent in plaintext after its STARTTLS reply are discarded
 *   by nodemailer (C32); we count them (`injectionBytes`) for a log event.
 * - Every wait has a total deadline as well as the idle timeout
 *   (`commandTimeoutMs`): a `StageClock` (deadline.ts) per connection times
 *   connect, greeting, EHLO, STARTTLS with its handshake, the EHLO inside TLS,
 *   and later each command and the DATA stages. When one passes the socket is
 *   destroyed (the TLS socket and the TCP socket under it) and the attempt
 *   is a transient failure of this host (4.4.2 `conversation with H[ip] timed
 *   out while …`): never a plaintext retry, never a pooled session.
 *   nodemailer's own timers are set as looser backstops. One reply is
 *   limited to `maxReplySize` bytes (an endless continuation ends the
 *   session: nodemailer's `maxResponseSize`).
 * - Every failure is a value (`OpenResult`/`SendResult`), never a throw.
 */
import type { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { EffectivePolicy } from '../core/effective-policy.ts';
import type { PresentedChain, TlsVerdict } from '../core/tls-verdict.ts';
import { verifyPeer } from '../core/verify-peer.ts';
import { hostName, type AttemptOutcome, type HostLabel } from '../core/outcome.ts';
import { StageClock, openBudget, type ClockStage, type StageBudgets } from './deadline.ts';
import { SessionTap, errorToFailure, failureOutcome, type NodemailerError } from './session-errors.ts';
import { SmtpSession } from './session.ts';

export type ConnectPolicy = Extract<EffectivePolicy, { kind: 'connect' }>;

export interface SessionTarget { mxHost: string; ip: string; port: number; policy: ConnectPolicy }

export interface SessionSettings {
  myhostname: string;
  connectTimeoutMs: number;
  /** Idle limit: the longest silence inside any stage (nodemailer socketTimeout). */
  commandTimeoutMs: number;
  /** Total limit of each stage (connectMs here wins over connectTimeoutMs). */
  deadlines: StageBudgets;
  /** Bytes one reply may have, continuation lines included. */
  maxReplySize: number;
  /** The TLS client's context, shared by every connection: its only CA issues nothing (trust-store.ts). */
  clientContext: tls.SecureContext;
  /** The local PKIX store, for verifyPeer. */
  trustAnchors: X509Certificate[];
  now?: () => Date;
}

export interface TlsSessionInfo {
  protocol: string | null;
  cipher: string | null;
  bits?: number;
  verdict: TlsVerdict;
  /** The chain the verdict was computed on (for `dane-relay check`'s depth-by-depth display). */
  chain?: PresentedChain;
  /** The outbound connection this session is on (numbered per process), joining its log lines. */
  connection?: number;
}

/** Outbound connections opened by this process: each gets the next number (its log lines share it). */
let connections = 0;

export type OpenResult =
  | { kind: 'open'; session: SmtpSession; tls: TlsSessionInfo | null; injectionBytes: number; plaintextFallback: boolean }
  | {
      kind: 'failed';
      /** Always `next-host`: this address is not used now. */
      outcome: AttemptOutcome;
      /** Postfix-wording reason for the host-skipped event. */
      reason: string;
      /** The TLS session, when the handshake succeeded but verification failed. */
      tls?: TlsSessionInfo;
      /** A TCP session was established (counts toward the session limit). */
      connected: boolean;
      injectionBytes: number;
      /** Required TLS was not established: STARTTLS missing or refused, or the handshake failed (TLSRPT). */
      tlsNotEstablished?: true;
    };

type Mode = 'require' | 'opportunistic' | 'none';

/** The chain as the server sent it: Node's issuer walk, a seen-set against the self-signed loop. */
export function presentedChain(sock: tls.TLSSocket): PresentedChain {
  const certificates: Uint8Array[] = [];
  const seen = new Set<string>();
  let c: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
  while (c && c.raw && !seen.has(c.fingerprint256) && certificates.length < 16) {
    seen.add(c.fingerprint256);
    certificates.push(new Uint8Array(c.raw));
    c = c.issuerCertificate;
  }
  return { certificates };
}

function cipherBits(name: string | null): number | undefined {
  if (!name) return undefined;
  if (/AES_?256|CHACHA20/i.test(name)) return 256;
  if (/AES_?128/i.test(name)) return 128;
  return undefined;
}

function modeOf(policy: ConnectPolicy): Mode {
  if (policy.tlsRequired) return 'require';
  return policy.tlsAttempt ? 'opportunistic' : 'none';
}

interface Raw { conn: SMTPConnection; tap: SessionTap; err?: NodemailerError }

type Sock = { destroyed: boolean; destroy(err?: Error): void };

/**
 * A deadline passed: destroy the connection with a timeout error. nodemailer's
 * socket error path then fails whatever waits (connect callback, send
 * callback, 'end' for RSET) and closes it. During and after STARTTLS the
 * TLS socket and the TCP socket under it are both destroyed.
 */
function expire(conn: SMTPConnection, tap: SessionTap, plain: () => Sock | undefined, stage: ClockStage): void {
  tap.expire(stage);
  const err = Object.assign(new Error(`deadline passed while waiting at stage ${stage}`), { code: 'ETIMEDOUT' }) as NodemailerError;
  const sock = conn._socket as unknown as Sock | false | null | undefined;
  if (sock && !sock.destroyed) sock.destroy(err);
  else {
    tap.lastError ??= err;
    conn.close();
  }
  const under = plain();
  if (under && under !== sock && !under.destroyed) under.destroy();
}

function connectRaw(t: SessionTarget, s: SessionSettings, mode: Mode): Promise<Raw> {
  const tap = new SessionTap();
  const d = s.deadlines;
  const conn = new SMTPConnection({
    host: t.ip, port: t.port, name: s.myhostname,
    ...(t.policy.sni ? { servername: t.policy.sni } : {}),
    requireTLS: mode === 'require', opportunisticTLS: mode === 'opportunistic', ignoreTLS: mode === 'none',
    tls: { rejectUnauthorized: false, secureContext: s.clientContext },
    // nodemailer's phase timers are backstops behind the StageClock, which fires first.
    connectionTimeout: openBudget(d) + 1000, greetingTimeout: Math.max(d.heloMs, d.starttlsMs) + 1000,
    socketTimeout: s.commandTimeoutMs, maxResponseSize: s.maxReplySize,
    logger: tap.logger, transactionLog: true,
  } as SMTPConnection.Options);
  let plainSocket: Sock | undefined;
  const clock = new StageClock(d, (stage) => expire(conn, tap, () => plainSocket, stage));
  tap.clock = clock;
  tap.onEstablished = () => { plainSocket = conn._socket as unknown as Sock; };
  clock.begin();
  return new Promise((resolve) => {
    let settled = false;
    const done = (err?: NodemailerError): void => {
      if (settled) return;
      settled = true;
      clock.operationDone();
      resolve({ conn, tap, ...(err ? { err } : {}) });
    };
    conn.on('error', (err: NodemailerError) => { tap.lastError = err; done(err); });
    conn.once('end', () => { tap.closed = true; clock.stop(); done(tap.lastError ?? Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })); });
    conn.connect((err) => done(err as NodemailerError | undefined));
  });
}

function verifyTls(conn: SMTPConnection, policy: ConnectPolicy, s: SessionSettings): TlsSessionInfo | null {
  const sock = conn._socket;
  if (conn.secure !== true || !(sock instanceof tls.TLSSocket)) return null;
  const chain = presentedChain(sock);
  const verdict = verifyPeer(policy.auth, chain, { now: (s.now ?? (() => new Date()))(), trustAnchors: s.trustAnchors });
  const cipher = sock.getCipher();
  const name = cipher?.standardName ?? cipher?.name ?? null;
  const bits = cipherBits(name);
  return { protocol: sock.getProtocol(), cipher: name, ...(bits !== undefined ? { bits } : {}), verdict, chain };
}

function failed(outcome: AttemptOutcome, reason: string, connected: boolean, injectionBytes: number, info?: TlsSessionInfo): Extract<OpenResult, { kind: 'failed' }> {
  return { kind: 'failed', outcome, reason, connected, injectionBytes, ...(info ? { tls: info } : {}) };
}

async function attempt(t: SessionTarget, s: SessionSettings, mode: Mode): Promise<OpenResult & { handshakeFailed?: boolean }> {
  const host: HostLabel = { name: t.mxHost, ip: t.ip, port: t.port };
  const { conn, tap, err } = await connectRaw(t, s, mode);
  if (err) {
    conn.close();
    const f = errorToFailure(err, tap, host);
    return { ...failed(f.outcome, f.reason, tap.connected, tap.injectionBytes), handshakeFailed: f.handshakeFailed, ...(f.tlsNotEstablished ? { tlsNotEstablished: true as const } : {}) };
  }
  const connection = ++connections;
  const verified = verifyTls(conn, t.policy, s);
  const info = verified ? { ...verified, connection } : null;
  if (t.policy.tlsRequired && !info) {
    // C14: defensive — requireTLS should have failed already; never continue in plaintext.
    conn.quit();
    const reason = `TLS is required, but was not offered by host ${hostName(host)}`;
    return { ...failed(failureOutcome('4.7.4', reason, 'starttls_missing'), reason, true, tap.injectionBytes), tlsNotEstablished: true };
  }
  if (info && !info.verdict.authenticated) {
    conn.quit(); // C16: the server never sees MAIL FROM
    // C16 under DANE; a PKIX or fingerprint level otherwise (the verdict says which authentication failed)
    const cause = t.policy.auth.kind === 'dane' ? 'tlsa_mismatch' : 'certificate_not_verified';
    return failed(failureOutcome('4.7.5', 'Server certificate not verified', cause), 'Server certificate not verified', true, tap.injectionBytes, info);
  }
  return { kind: 'open', session: new SmtpSession(conn, tap, host, connection), tls: info, injectionBytes: tap.injectionBytes, plaintextFallback: mode === 'none' && t.policy.tlsAttempt };
}

/**
 * Connect, STARTTLS per policy, verify. At `may` only, a failed TLS handshake
 * is followed by one plaintext attempt to the same address.
 */
export async function openVerifiedSession(t: SessionTarget, s: SessionSettings): Promise<OpenResult> {
  const mode = modeOf(t.policy);
  const first = await attempt(t, s, mode);
  if (first.kind === 'failed' && first.handshakeFailed && mode === 'opportunistic' && !t.policy.tlsRequired) {
    return attempt(t, s, 'none');
  }
  const { handshakeFailed: _ignored, ...rest } = first;
  return rest as OpenResult;
}
