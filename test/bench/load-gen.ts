/**
 * The benchmark's own load generator (`--client own`): C concurrent SMTP
 * client sessions on raw sockets, sharing one counter of N messages of S
 * bytes, with PIPELINING (MAIL, RCPT and DATA in one write, RFC 2920).
 * `reuse: true` keeps each session open for many messages; `reuse: false`
 * opens one connection per message (connect, 220, EHLO, one message, QUIT),
 * as `smtp-source` without `-d` does.
 *
 * Contract:
 * - Every message carries a unique `Message-ID: <TAG.SEQ@bench.test>`
 *   (the key the sink reports back) and is exactly `size` bytes of header
 *   and body (CRLF lines, none starting with a dot), give or take one byte.
 * - Per accepted message it records `dotAt` (the final `.` written) and
 *   `acceptedAt` (the 250 read), epoch ms as floats: accept latency is the
 *   difference. `greetingMs` holds, per connection, connect → `220` read.
 *   A message not answered 250 is counted in `rejected` with
 *   the reply; a session whose connection breaks reconnects (at most 3 times).
 * - Bounded: the whole run stops at `timeoutMs` (sockets destroyed, the
 *   result is returned with what was done); never throws for SMTP or socket
 *   problems, which land in `errors`.
 */
import net from 'node:net';
import { now } from './sink.ts';

export interface LoadOptions {
  host: string;
  port: number;
  sessions: number;
  messages: number;
  size: number;
  /** Unique per run; part of every Message-ID. */
  tag: string;
  sender: string;
  recipientFor(seq: number): string;
  timeoutMs: number;
  /** Many messages per connection (default), or one connection per message. */
  reuse?: boolean;
  /**
   * Open-loop pacing: message k (counted over all sessions) starts no earlier
   * than k / rate seconds after the start, so latency is measured at an
   * offered load rather than at saturation; 0 or absent: as fast as replies come.
   */
  rate?: number;
}

export interface MessageTiming {
  id: string;
  dotAt: number;
  acceptedAt: number;
}

export interface LoadResult {
  startedAt: number;
  endedAt: number;
  accepted: MessageTiming[];
  /** messages answered 250: `accepted.length` here; smtp-source has no per-message timings, only this count */
  acceptedCount: number;
  /** ms from connect to the 220, one per connection opened */
  greetingMs: number[];
  rejected: number;
  errors: string[];
  timedOut: boolean;
}

interface Reply {
  code: number;
  text: string;
}

/** `<tag.seq@bench.test>`: the Message-ID of message `seq` of a run. */
export const messageId = (tag: string, seq: number): string => `<${tag}.${seq}@bench.test>`;

/** Headers + filler lines, `size` bytes, without the terminating `.`. */
export function buildMessage(o: { id: string; from: string; to: string; size: number }): string {
  const head =
    `From: <${o.from}>\r\nTo: <${o.to}>\r\nSubject: bench ${o.id}\r\nMessage-ID: ${o.id}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`;
  let need = Math.max(0, o.size - head.length);
  const line = 'The quick brown fox jumps over the lazy dog while the relay verifies DANE.xx\r\n';
  const parts: string[] = [head];
  while (need >= line.length) {
    parts.push(line);
    need -= line.length;
  }
  if (need >= 2) parts.push('y'.repeat(need - 2) + '\r\n');
  return parts.join('');
}

/** One SMTP client connection: reads replies (multi-line aware) in order. */
class Client {
  private buf = '';
  private lines: string[] = [];
  private waiters: Array<{ resolve(r: Reply): void; reject(e: Error): void }> = [];
  /** Replies that arrived before anyone asked for them. */
  private ready: Reply[] = [];
  private failed: Error | undefined;

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.receive(d));
    const fail = (err: Error): void => {
      this.failed ??= err;
      for (const w of this.waiters.splice(0)) w.reject(this.failed);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** `startedAt`: before connect(), for the greeting latency. */
  readonly startedAt = now();

  static connect(host: string, port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      // Listening for replies from the start: a banner may come with the connect event.
      const c = new Client(s);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(c);
      });
      s.once('error', reject);
    });
  }

  private receive(d: string): void {
    this.buf += d;
    let eol: number;
    while ((eol = this.buf.indexOf('\r\n')) >= 0) {
      const line = this.buf.slice(0, eol);
      this.buf = this.buf.slice(eol + 2);
      this.lines.push(line);
      if (line.length < 4 || line[3] === ' ') {
        const text = this.lines.join('\n');
        this.lines = [];
        const reply = { code: Number(line.slice(0, 3)), text };
        const w = this.waiters.shift();
        if (w) w.resolve(reply);
        else this.ready.push(reply);
      }
    }
  }

  reply(): Promise<Reply> {
    const early = this.ready.shift();
    if (early) return Promise.resolve(early);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  send(text: string): void {
    this.socket.write(text, 'latin1');
  }
}

interface Shared {
  o: LoadOptions;
  next: number;
  /** Paced starts handed out so far (`rate`). */
  slots: number;
  result: LoadResult;
  clients: Set<Client>;
  stopped: boolean;
}

async function openSession(sh: Shared): Promise<Client> {
  const c = await Client.connect(sh.o.host, sh.o.port);
  sh.clients.add(c);
  c.socket.once('close', () => sh.clients.delete(c));
  const greeting = await c.reply();
  if (greeting.code !== 220) throw new Error(`greeting: ${greeting.text}`);
  sh.result.greetingMs.push(now() - c.startedAt);
  c.send('EHLO loadgen.bench.test\r\n');
  const ehlo = await c.reply();
  if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.text}`);
  return c;
}

/** Sends one message on an open session; a refusal is counted, a broken connection throws. */
async function sendOne(sh: Shared, c: Client, seq: number): Promise<void> {
  const id = messageId(sh.o.tag, seq);
  const to = sh.o.recipientFor(seq);
  c.send(`MAIL FROM:<${sh.o.sender}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
  const [mail, rcpt, data] = [await c.reply(), await c.reply(), await c.reply()];
  if (mail.code !== 250 || rcpt.code !== 250 || data.code !== 354) {
    if (data.code === 354) {
      c.send('.\r\n');
      await c.reply();
    }
    sh.result.rejected++;
    sh.result.errors.push(`${id}: ${[mail, rcpt, data].find((r) => r.code >= 400)?.text ?? 'unexpected reply'}`);
    c.send('RSET\r\n');
    await c.reply();
    return;
  }
  c.send(buildMessage({ id, from: sh.o.sender, to, size: sh.o.size }) + '.\r\n');
  const dotAt = now();
  const done = await c.reply();
  if (done.code === 250) sh.result.accepted.push({ id, dotAt, acceptedAt: now() });
  else {
    sh.result.rejected++;
    sh.result.errors.push(`${id}: ${done.text}`);
  }
}

/** With `rate`: waits for this session's next start slot (open loop). */
async function pace(sh: Shared): Promise<void> {
  const rate = sh.o.rate ?? 0;
  if (rate <= 0) return;
  const due = sh.result.startedAt + (sh.slots++ * 1000) / rate;
  const wait = due - now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

async function session(sh: Shared): Promise<void> {
  let reconnects = 0;
  while (!sh.stopped && sh.next < sh.o.messages) {
    if (sh.o.reuse === false) await pace(sh);
    let c: Client;
    try {
      c = await openSession(sh);
    } catch (err) {
      sh.result.errors.push(`connect: ${(err as Error).message}`);
      if (++reconnects > 3) return;
      continue;
    }
    try {
      while (!sh.stopped && sh.next < sh.o.messages) {
        if (sh.o.reuse !== false) await pace(sh);
        if (sh.next >= sh.o.messages) break;
        await sendOne(sh, c, sh.next++);
        if (sh.o.reuse === false) break;
      }
      c.send('QUIT\r\n');
      await c.reply().catch(() => undefined);
      c.socket.end();
      if (sh.o.reuse !== false) return;
    } catch (err) {
      sh.result.errors.push(`session: ${(err as Error).message}`);
      c.socket.destroy();
      if (++reconnects > 3) return;
    }
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const sh: Shared = {
    o,
    next: 0,
    slots: 0,
    result: { startedAt: now(), endedAt: 0, accepted: [], acceptedCount: 0, greetingMs: [], rejected: 0, errors: [], timedOut: false },
    clients: new Set(),
    stopped: false,
  };
  const timer = setTimeout(() => {
    sh.stopped = true;
    sh.result.timedOut = true;
    for (const c of sh.clients) c.socket.destroy();
  }, o.timeoutMs);
  await Promise.all(Array.from({ length: Math.max(1, o.sessions) }, () => session(sh)));
  clearTimeout(timer);
  sh.result.endedAt = now();
  sh.result.acceptedCount = sh.result.accepted.length;
  return sh.result;
}
