/**
 * SMTP line handling for the attacker proxy: splitting a byte stream into
 * lines, grouping server replies (RFC 5321 §4.2.1 multi-line replies), removing
 * the STARTTLS capability from an EHLO reply, and watching a client stream for
 * message bodies (DATA … CRLF.CRLF).
 *
 * Pure helpers and one small stateful class; no I/O. A line longer than
 * `MAX_LINE` is a protocol violation the caller handles (drops the connection).
 */

export const MAX_LINE = 64 * 1024;

/** Splits a stream into lines; keeps the unterminated tail. Lines are returned without CRLF/LF. */
export class LineSplitter {
  private tail = Buffer.alloc(0);

  /** Returns the complete lines in `chunk` (plus the tail), or null when a line is too long. */
  push(chunk: Buffer): string[] | null {
    this.tail = Buffer.concat([this.tail, chunk]);
    const lines: string[] = [];
    for (let i = this.tail.indexOf(0x0a); i >= 0; i = this.tail.indexOf(0x0a)) {
      const end = i > 0 && this.tail[i - 1] === 0x0d ? i - 1 : i;
      lines.push(this.tail.subarray(0, end).toString('latin1'));
      this.tail = this.tail.subarray(i + 1);
    }
    return this.tail.length > MAX_LINE ? null : lines;
  }

  /** Bytes received after the last complete line (e.g. a TLS ClientHello after STARTTLS). */
  takeRest(): Buffer {
    const rest = this.tail;
    this.tail = Buffer.alloc(0);
    return rest;
  }
}

/** Groups reply lines: returns complete replies (all lines of one reply) and keeps the partial one. */
export class ReplyGrouper {
  private pending: string[] = [];

  push(lines: string[]): string[][] {
    const replies: string[][] = [];
    for (const line of lines) {
      this.pending.push(line);
      if (!/^\d{3}-/.test(line)) {
        replies.push(this.pending);
        this.pending = [];
      }
    }
    return replies;
  }
}

/** Three-digit code of a reply, or 0 when malformed. */
export function replyCode(reply: string[]): number {
  const m = /^(\d{3})/.exec(reply[reply.length - 1] ?? '');
  return m ? Number(m[1]) : 0;
}

/** The reply with any `STARTTLS` capability line removed and continuation markers fixed. */
export function stripStartTls(reply: string[]): { reply: string[]; stripped: boolean } {
  const kept = reply.filter((l) => !/^\d{3}[- ]STARTTLS\s*$/i.test(l));
  if (kept.length === reply.length || kept.length === 0) return { reply, stripped: false };
  const fixed = kept.map((l, i) => {
    const code = l.slice(0, 3);
    const text = l.slice(4);
    return `${code}${i === kept.length - 1 ? ' ' : '-'}${text}`;
  });
  return { reply: fixed, stripped: true };
}

/** The bytes of a reply as sent on the wire. */
export function encodeReply(reply: string[]): string {
  return reply.map((l) => l + '\r\n').join('');
}

/**
 * Watches client→server lines: reports each command verb, and counts message
 * bodies that were completely transmitted (DATA … `.`).
 */
export class SmtpObserver {
  private inData = false;
  messages = 0;

  /** Feed one line; returns the upper-cased command verb, or null for a body line. */
  line(line: string): string | null {
    if (this.inData) {
      if (line === '.') { this.inData = false; this.messages++; }
      return null;
    }
    const verb = (line.split(' ', 1)[0] ?? '').toUpperCase();
    if (verb === 'DATA') this.inData = true;
    return verb;
  }
}
