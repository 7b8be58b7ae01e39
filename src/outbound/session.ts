/**
 * An open, verified SMTP session (nodemailer SMTPConnection) that can carry
 * one message at a time, and be reset and reused (C31 keys live in the pool).
 *
 * Contract:
 * - `send` never throws; it returns `SendResult`: `done` (message accepted
 *   for at least one recipient, per-recipient rejections listed), `refused`
 *   (a reply refused the transaction: MAIL FROM, all RCPT TO, DATA, end of
 *   DATA — the session is usable after `reset()`), `broken` (network error,
 *   the session is closed) or `local` (e.g. the body stream failed — the
 *   session's state is unknown, so it is closed), or `unsupported` (the
 *   envelope needs an extension the server did not offer — SMTPUTF8 for
 *   non-ASCII addresses, RFC 6531 §3.4 — nothing was sent; the session stays
 *   ready).
 * - `state`: `ready` (may carry a message after RSET), `closed`. A session in
 *   any unknown state is closed, never reused.
 * - `reset()` sends RSET and resolves true on 250; on anything else the
 *   session is closed and false returned.
 * - Every wait is bounded by the connection's `StageClock` (deadline.ts):
 *   MAIL, each RCPT, DATA, the body (scaled by size), the final reply, RSET.
 *   A passed deadline destroys the connection: `send` resolves `broken` with
 *   cause `timeout` at that stage (4.4.2), `reset` false; the session is
 *   closed, so the pool never takes it back.
 */
import type { Readable } from 'node:stream';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { parseReply, type HostLabel, type SmtpReply, type SmtpStage } from '../core/outcome.ts';
import { networkFailure, type NodemailerError, type SessionTap } from './session-errors.ts';
import type { TlsSessionInfo } from './smtp-session.ts';

export interface EnvelopeIn {
  sender: string;
  recipients: string[];
  size: number;
  eightBit: boolean;
  /** RET and ENVID for MAIL FROM, sent only when the server offers DSN (RFC 3461 §4.3, §4.4). */
  dsn?: { ret?: 'FULL' | 'HDRS'; envid?: string };
  /** NOTIFY and ORCPT per recipient for RCPT TO, sent only when the server offers DSN (RFC 3461 §4.1, §4.2). */
  recipientDsn?: Record<string, { notify?: string[]; orcpt?: string }>;
  /** REQUIRETLS on MAIL FROM (RFC 8689 §4.2.1); the caller has checked the server offers it. */
  requireTls?: boolean;
}

/** RFC 3461 §4: xtext (`+XX` for '+', '=', and octets outside 0x21..0x7e). */
export function xtext(value: string): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out += b < 0x21 || b > 0x7e || b === 0x2b || b === 0x3d ? `+${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}

/** ` NOTIFY=… ORCPT=…` for one recipient; '' when none were given. */
export function rcptDsnArgs(p: { notify?: string[]; orcpt?: string } | undefined): string {
  if (!p) return '';
  const args: string[] = [];
  if (p.notify && p.notify.length > 0) args.push(`NOTIFY=${p.notify.join(',')}`);
  if (p.orcpt !== undefined) args.push(`ORCPT=${xtext(p.orcpt)}`);
  return args.length > 0 ? ' ' + args.join(' ') : '';
}

/** nodemailer internals this adapter relies on (pinned by test/outbound/dsn-params.test.ts). */
interface ConnInternals {
  _getDsnRcptToArgs(): string;
  _createSendStream(callback: (err: Error | null, response?: string) => void): NodeJS.ReadableStream;
  _socket?: { cork(): void; uncork(): void; destroyed: boolean } | false;
  _ehloLines?: unknown[];
  _recipientQueue?: string[];
  _supportedExtensions?: unknown;
}

export interface RejectedRecipient { recipient: string; reply: SmtpReply }

export type SendResult =
  | { kind: 'done'; accepted: string[]; rejected: RejectedRecipient[]; reply: SmtpReply }
  | { kind: 'refused'; stage: 'mail' | 'rcpt' | 'data' | 'message'; reply: SmtpReply; rejected: RejectedRecipient[] }
  | { kind: 'broken'; stage: SmtpStage; cause: 'timeout' | 'refused' | 'closed' | 'error'; detail: string }
  | { kind: 'local'; detail: string }
  | { kind: 'unsupported'; dsn: string; detail: string };

const NON_ASCII = /[^\x00-\x7f]/;

/** Releases a body stream that will not be sent. */
const discard = (body: Readable | Buffer): void => {
  if (!Buffer.isBuffer(body)) body.destroy();
};

const SIZE_REPLY: SmtpReply = { code: 552, enhanced: '5.3.4', text: '552 5.3.4 Message size exceeds the limit of the server' };

function rejectedOf(errors: NodemailerError[] | undefined): RejectedRecipient[] {
  const out: RejectedRecipient[] = [];
  for (const e of errors ?? []) {
    const reply = e.response ? parseReply(e.response) : null;
    if (e.recipient && reply) out.push({ recipient: e.recipient, reply });
  }
  return out;
}

const STAGE_OF_COMMAND: Record<string, 'mail' | 'rcpt' | 'data' | 'message'> = { 'MAIL FROM': 'mail', 'RCPT TO': 'rcpt', DATA: 'data' };

export class SmtpSession {
  state: 'ready' | 'busy' | 'closed' = 'ready';
  /** Messages sent (attempted) on this session. */
  uses = 0;
  /** When the last transaction completed with the server's 250 (the session is then in its initial state); null otherwise. */
  cleanSince: number | null = null;
  /** The TLS session and its verdict, set once by whoever opened it (deliver.ts); null in plaintext. */
  tls: TlsSessionInfo | null = null;

  /** The NOTIFY/ORCPT of the transaction being sent (per recipient). */
  private rcptDsn: EnvelopeIn['recipientDsn'];
  /** The message being sent is held in memory (its body and final dot go out in one write). */
  private bodyInMemory = false;

  /** `connection`: the outbound connection number (smtp-session.ts), for the log. */
  constructor(private readonly conn: SMTPConnection, private readonly tap: SessionTap, readonly host: HostLabel, readonly connection = 0) {
    conn.on('end', () => { this.state = 'closed'; });
    // nodemailer applies one NOTIFY/ORCPT to every RCPT TO of an envelope; recipients carry
    // their own (RFC 3461 §4.1, §4.2), so the RCPT arguments are built per recipient here,
    // for the recipient nodemailer has just queued, and only when the server offers DSN.
    const internals = conn as unknown as ConnInternals;
    internals._getDsnRcptToArgs = () => {
      const queue = internals._recipientQueue;
      const rcpt = Array.isArray(queue) ? queue[queue.length - 1] : undefined;
      return this.offers('DSN') && rcpt !== undefined ? rcptDsnArgs(this.rcptDsn?.[rcpt]) : '';
    };
    // nodemailer writes a message body and its terminating "." in separate writes: two TLS records
    // and two sends per message. For a body held in memory the socket is corked from the 354 (when
    // nodemailer starts the body) to the next turn of the loop, so both leave in one record and one
    // send (issue 15: 3 writes per message down to 2). Uncorked on the next turn whatever happens, so
    // backpressure on a large body cannot hold it; a body streamed from the queue file is not corked.
    const createSendStream = internals._createSendStream;
    internals._createSendStream = (callback) => {
      const stream = createSendStream.call(conn, callback);
      const socket = internals._socket;
      if (this.bodyInMemory && socket && !socket.destroyed) {
        socket.cork();
        setImmediate(() => socket.uncork());
      }
      return stream;
    };
  }

  get alive(): boolean {
    return this.state !== 'closed' && !this.tap.closed && !this.conn.destroyed;
  }

  /** Send one message; a body stream is fresh for this call (a Buffer is sent as is). */
  send(env: EnvelopeIn, body: Readable | Buffer): Promise<SendResult> {
    if (!this.alive || this.state === 'busy') {
      discard(body);
      return Promise.resolve({ kind: 'broken', stage: 'mail', cause: 'closed', detail: 'session not usable' });
    }
    if ((NON_ASCII.test(env.sender) || env.recipients.some((r) => NON_ASCII.test(r))) && !this.offers('SMTPUTF8')) {
      discard(body);
      const detail = `SMTPUTF8 is required, but was not offered by host ${this.host.name}[${this.host.ip}]`;
      return Promise.resolve({ kind: 'unsupported', dsn: '5.6.7', detail });
    }
    this.state = 'busy';
    this.tap.clock?.transaction(env.size, env.recipients.length);
    this.uses++;
    this.cleanSince = null;
    this.rcptDsn = env.recipientDsn;
    this.bodyInMemory = Buffer.isBuffer(body);
    const envelope = {
      from: env.sender === '' ? '' : env.sender, to: env.recipients, size: env.size, use8BitMime: env.eightBit,
      // nodemailer sends RET/ENVID only when the server offers DSN; the object also makes it call _getDsnRcptToArgs.
      // Only when the server really offers DSN: nodemailer's own test also matches the word in a host name.
      ...(env.dsn && (env.dsn.ret || env.dsn.envid !== undefined) && this.offers('DSN') ? { dsn: { ...(env.dsn.ret ? { ret: env.dsn.ret } : {}), ...(env.dsn.envid !== undefined ? { envid: env.dsn.envid } : {}) } } : {}),
      ...(env.requireTls ? { requireTLSExtensionEnabled: true } : {}),
    };
    return new Promise((resolve) => {
      this.conn.send(envelope, body, (err, info) => {
        this.tap.clock?.operationDone();
        const result = err ? this.mapError(err as NodemailerError) : this.mapInfo(info);
        if (this.state === 'busy') this.state = result.kind === 'done' || result.kind === 'refused' ? 'ready' : 'closed';
        if (result.kind === 'done' && result.rejected.length === 0) this.cleanSince = Date.now();
        if (this.state === 'closed') this.conn.close();
        resolve(result);
      });
    });
  }

  private mapInfo(info: SMTPConnection.SentMessageInfo | undefined): SendResult {
    const reply = parseReply(info?.response ?? '') ?? { code: 250, enhanced: null, text: info?.response ?? '250' };
    return { kind: 'done', accepted: info?.accepted ?? [], rejected: rejectedOf(info?.rejectedErrors as NodemailerError[] | undefined), reply };
  }

  private mapError(err: NodemailerError): SendResult {
    const reply = err.response ? parseReply(err.response) : null;
    if ((err.code === 'EENVELOPE' || err.code === 'EMESSAGE') && reply) {
      const stage = err.code === 'EMESSAGE' ? 'message' : (STAGE_OF_COMMAND[err.command ?? ''] ?? 'mail');
      return { kind: 'refused', stage, reply, rejected: rejectedOf(err.rejectedErrors) };
    }
    if (err.code === 'EMESSAGE' && /size/i.test(err.message)) return { kind: 'refused', stage: 'mail', reply: SIZE_REPLY, rejected: [] };
    if (err.code === 'ESTREAM' || (err.code === 'EENVELOPE' && !reply)) return { kind: 'local', detail: err.message };
    const f = networkFailure(err, this.tap.stage, this.tap.timedOut);
    return f.kind === 'network' ? { kind: 'broken', stage: f.stage, cause: f.cause, detail: f.detail } : { kind: 'local', detail: err.message };
  }

  /**
   * Whether the server's last EHLO reply (the one inside TLS, C32) has a line
   * whose keyword is `extension`. Read from nodemailer's `_ehloLines` (that
   * reply's lines, greeting line removed), never from its
   * `_supportedExtensions`: that list is filled by a search for the word
   * anywhere in the reply, so a greeting such as `250-mx-requiretls.example`
   * counts as offering REQUIRETLS (found by the lab, s44), and it is never
   * emptied between EHLOs.
   */
  offers(extension: string): boolean {
    const lines = (this.conn as unknown as ConnInternals)._ehloLines;
    return Array.isArray(lines) && lines.some((l) => typeof l === 'string' && l.split(/\s+/)[0]?.toUpperCase() === extension);
  }

  /** RSET; false (and the session closed) unless the server answered 2xx. */
  reset(): Promise<boolean> {
    if (!this.alive || this.state !== 'ready') return Promise.resolve(false);
    this.state = 'busy';
    this.tap.clock?.resetting();
    return new Promise((resolve) => {
      const onEnd = (): void => finish(false);
      const finish = (ok: boolean): void => {
        this.tap.clock?.operationDone();
        this.conn.removeListener('end', onEnd);
        if (this.state !== 'busy') { resolve(false); return; }
        this.state = ok ? 'ready' : 'closed';
        if (!ok) this.conn.close();
        resolve(ok);
      };
      this.conn.once('end', onEnd);
      this.conn.reset((err) => finish(!err));
    });
  }

  /** QUIT and close; idempotent. */
  quit(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.conn.destroyed) return;
    try { this.conn.quit(); } catch { this.conn.close(); }
  }
}
