/**
 * Total deadlines for every wait of an outbound SMTP session (issue 19;
 * Postfix smtp_*_timeout with smtp_per_record_deadline).
 *
 * nodemailer's `socketTimeout` is an idle timer: a server that sends one byte
 * every few seconds resets it for ever. `StageClock` adds a wall-clock limit
 * to each stage, whatever the server sends:
 * - connect; the greeting, each EHLO reply (before and after TLS): helo;
 *   STARTTLS reply and the TLS handshake together: starttls; each MAIL, RCPT,
 *   RSET, QUIT reply; the DATA reply (data init); the body transfer (data
 *   xfer + size / min data rate) and then the reply to the final dot (data
 *   done). The verification step between the post-TLS EHLO and MAIL FROM is
 *   synchronous CPU work (core/verify-peer) and needs no timer.
 * - Replies are awaited in the order the commands were sent (RFC 2920), so
 *   the clock keeps a FIFO of the stages whose reply is awaited and times the
 *   oldest one from the moment it became the oldest.
 * - Besides the stage timers, each operation (opening a session, one send,
 *   one RSET) has an outer limit equal to the sum of its stage budgets: a
 *   backstop that holds even if a stage were misread.
 * - When a limit passes, `onExpire(stage)` is called once; the adapter
 *   (smtp-session.ts) destroys the connection and the attempt becomes an
 *   ordinary transient failure for that host (4.4.2, never a bounce, never a
 *   plaintext retry, never back into the session pool).
 * Timers are unref'd and all cleared by `stop()`.
 */
import type { SmtpStage } from '../core/outcome.ts';

/** Stages the clock times: SMTP stages plus QUIT (whose expiry only drops the socket). */
export type ClockStage = SmtpStage | 'quit';

/** Stage limits in milliseconds (from config `delivery.*_timeout`, see options.ts). */
export interface StageBudgets {
  connectMs: number;
  heloMs: number;
  starttlsMs: number;
  mailMs: number;
  rcptMs: number;
  dataInitMs: number;
  dataXferMs: number;
  /** Bytes per second the body transfer is allowed to be as slow as. */
  minDataRate: number;
  dataDoneMs: number;
  rsetMs: number;
  quitMs: number;
}

/** Time allowed to send a body of `size` bytes: data_xfer_timeout + size / min_data_rate. */
export function transferBudget(b: StageBudgets, size: number): number {
  return b.dataXferMs + Math.ceil((Math.max(size, 0) * 1000) / b.minDataRate);
}

/** The limit for waiting on one stage (`message` is the body transfer; the final reply uses `dataDoneMs`). */
export function stageBudget(b: StageBudgets, stage: ClockStage, size = 0): number {
  switch (stage) {
    case 'connect': return b.connectMs;
    case 'greeting': case 'ehlo': return b.heloMs;
    case 'starttls': case 'tls-handshake': return b.starttlsMs;
    case 'mail': return b.mailMs;
    case 'rcpt': return b.rcptMs;
    case 'data': return b.dataInitMs;
    case 'message': return transferBudget(b, size);
    case 'reset': return b.rsetMs;
    case 'quit': return b.quitMs;
  }
}

/** Outer limit for opening a session: connect, greeting, EHLO, STARTTLS + handshake, EHLO inside TLS. */
export function openBudget(b: StageBudgets): number {
  return b.connectMs + 3 * b.heloMs + b.starttlsMs;
}

/** Outer limit for one transaction: MAIL, every RCPT, DATA, body, final reply. */
export function sendBudget(b: StageBudgets, size: number, recipients: number): number {
  return b.mailMs + Math.max(recipients, 1) * b.rcptMs + b.dataInitMs + transferBudget(b, size) + b.dataDoneMs;
}

const COMMANDS: Array<[RegExp, ClockStage]> = [
  [/^(EHLO|HELO|LHLO)\b/i, 'ehlo'], [/^STARTTLS\b/i, 'starttls'], [/^MAIL FROM\b/i, 'mail'], [/^RCPT TO\b/i, 'rcpt'],
  [/^DATA\b/i, 'data'], [/^RSET\b/i, 'reset'], [/^QUIT\b/i, 'quit'],
];

/** The stage a command line opens (unknown commands are timed as the stage they follow). */
export function commandStage(line: string, fallback: ClockStage): ClockStage {
  return COMMANDS.find(([re]) => re.test(line))?.[1] ?? fallback;
}

export class StageClock {
  /** Stages whose reply is awaited, oldest first. */
  private readonly awaited: ClockStage[] = [];
  private stageTimer: NodeJS.Timeout | null = null;
  private outerTimer: NodeJS.Timeout | null = null;
  /** The stage being timed (null: nothing awaited). */
  current: ClockStage | null = null;
  /** The stage whose limit passed, once one did. */
  expired: ClockStage | null = null;
  private messageSize = 0;

  constructor(private readonly budgets: StageBudgets, private readonly onExpire: (stage: ClockStage) => void) {}

  /** Start: connecting (and the outer limit for the whole set-up). */
  begin(): void {
    this.operation(openBudget(this.budgets), 'connect');
    this.arm('connect', this.budgets.connectMs);
  }

  /** TCP connected: the greeting is awaited. */
  established(): void {
    this.awaited.length = 0;
    this.awaited.push('greeting');
    this.armHead();
  }

  /** A command line went out. */
  command(line: string): void {
    if (this.current === 'tls-handshake') this.disarm();
    if (line === '.' && this.awaited[this.awaited.length - 1] === 'message') {
      this.bodyWritten(); // nodemailer ends a body-less DATA (all recipients refused) with a lone dot
      return;
    }
    this.awaited.push(commandStage(line, this.awaited[this.awaited.length - 1] ?? this.current ?? 'mail'));
    if (this.awaited.length === 1) this.armHead();
  }

  /** A complete reply arrived. */
  reply(text: string): void {
    const stage = this.awaited.shift();
    if (stage === 'starttls' && text.startsWith('2')) {
      this.current = 'tls-handshake'; // the same STARTTLS limit runs on through the handshake
      return;
    }
    if (stage === 'data' && /^[23]/.test(text)) {
      this.awaited.unshift('message');
      this.arm('message', transferBudget(this.budgets, this.messageSize));
      return;
    }
    this.armHead();
  }

  /** The TLS handshake completed. */
  upgraded(): void {
    if (this.current === 'tls-handshake') this.disarm();
  }

  /** The whole body was handed to the socket: the reply to the final dot is awaited. */
  bodyWritten(): void {
    if (this.awaited[0] === 'message') this.arm('message', this.budgets.dataDoneMs);
  }

  /** A transaction is about to start (sets the body transfer limit and the outer limit). */
  transaction(size: number, recipients: number): void {
    this.messageSize = size;
    this.operation(sendBudget(this.budgets, size, recipients), 'mail');
  }

  /** An RSET is about to be sent. */
  resetting(): void {
    this.operation(this.budgets.rsetMs, 'reset');
  }

  /** The operation finished (session ready or closed): the outer limit is cleared. */
  operationDone(): void {
    if (this.outerTimer) clearTimeout(this.outerTimer);
    this.outerTimer = null;
  }

  /** Clear every timer (the connection ended). */
  stop(): void {
    this.disarm();
    this.operationDone();
    this.awaited.length = 0;
  }

  /** Outer limit; on expiry the stage reported is the one being timed, else `first`. */
  private operation(ms: number, first: ClockStage): void {
    this.operationDone();
    this.outerTimer = setTimeout(() => this.fire(this.current ?? this.awaited[0] ?? first), ms);
    this.outerTimer.unref();
  }

  private armHead(): void {
    const head = this.awaited[0];
    if (head === undefined) { this.disarm(); return; }
    this.arm(head, stageBudget(this.budgets, head, this.messageSize));
  }

  private arm(stage: ClockStage, ms: number): void {
    this.disarm();
    this.current = stage;
    this.stageTimer = setTimeout(() => this.fire(this.current ?? stage), ms);
    this.stageTimer.unref();
  }

  private disarm(): void {
    if (this.stageTimer) clearTimeout(this.stageTimer);
    this.stageTimer = null;
    this.current = null;
  }

  private fire(stage: ClockStage): void {
    if (this.expired) return;
    this.expired = stage;
    this.stop();
    this.onExpire(stage);
  }
}
