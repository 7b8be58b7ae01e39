/**
 * Plays one generated session (inbound-session.ts) against an SMTP listener
 * on loopback and reports what it saw; see inbound-session.ts for the
 * oracle. Every wait is bounded: `replyMs` for a reply that is owed,
 * `closeMs` for the server to end a stalled or half-closed session. Never
 * throws for anything the server does; a connection refused (the relay is
 * being restarted after a crash) is reported as `unavailable`.
 * Body steps are sent only inside DATA (after a 354), and a body that hides
 * a smuggled transaction only where the client is surely at the start of
 * DATA (the 354 answered the last line sent): anywhere else the hidden
 * commands could legitimately be commands, and the smuggling oracle would
 * accuse the server of the client's own transaction.
 */
import net from 'node:net';
import { OUTSIDE_ADDRESS, type Session } from './inbound-session.ts';

export interface DriverBounds {
  replyMs: number;
  closeMs: number;
}

export interface SessionOutcome {
  acked: string[];
  hang?: string;
  openRelay: boolean;
  unavailable: boolean;
}

const QUEUED = /^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$/;

/** The client side of one session: final reply codes in order, queue ids acknowledged, closed or not. */
class Client {
  readonly finals: number[] = [];
  readonly acked: string[] = [];
  closed = false;
  private buffer = '';
  private readonly wakers = new Set<() => void>();

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private onData(d: Buffer): void {
    this.buffer += d.toString('latin1');
    for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      const m = /^(\d{3})(?: |$)/.exec(line);
      if (!m) continue;
      this.finals.push(Number(m[1]));
      const q = QUEUED.exec(line);
      if (q?.[1]) this.acked.push(q[1]);
    }
    if (this.buffer.length > 65_536) this.buffer = this.buffer.slice(-1024);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Resolves true once `done()` holds (checked at each event), false after `ms`. */
  until(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.wakers.delete(check);
        resolve(ok);
      };
      const check = (): void => {
        if (done()) finish(true);
      };
      const timer = setTimeout(() => finish(done()), ms);
      this.wakers.add(check);
    });
  }

  write(bytes: Buffer): void {
    if (!this.closed && !this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }
}

function connect(port: number, localAddress: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    socket.once('error', () => resolve(undefined));
    socket.once('connect', () => resolve(socket));
  });
}

const countLf = (b: Buffer): number => {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
};

/** Plays the steps; returns a hang description or undefined, and whether the client is inside DATA. */
async function playSteps(c: Client, session: Session, bounds: DriverBounds): Promise<{ hang?: string; dataMode: boolean }> {
  let dataMode = false;
  // the 354 answered the last line sent and nothing was sent since: the server is at the start of DATA for sure
  let certainData = false;
  for (const [idx, st] of session.steps.entries()) {
    if (c.closed) break;
    if (st.kind === 'body' && !dataMode) continue;
    // a smuggling body is only sent where the client surely is in DATA: its hidden transaction must then never be queued
    if (st.kind === 'body' && st.smuggled && !certainData) continue;
    certainData = false;
    const cut = idx === session.steps.length - 1 && session.cutInside !== null;
    const bytes = cut ? st.bytes.subarray(0, Math.floor(st.bytes.length * (session.cutInside ?? 1))) : st.bytes;
    const before = c.finals.length;
    // owed replies: one per LF-terminated command line; in DATA, one for the final dot
    const owed = dataMode ? (st.kind === 'body' && st.terminated && !cut ? 1 : 0) : countLf(bytes);
    c.write(bytes);
    if (owed === 0) continue;
    const ok = await c.until(() => c.closed || c.finals.length - before >= owed || c.finals.slice(before).includes(354), bounds.replyMs);
    if (!ok) return { hang: `no reply within ${bounds.replyMs} ms to step ${idx} (${st.kind}, ${bytes.length} bytes, ${owed} owed, ${c.finals.length - before} got)`, dataMode };
    dataMode = !c.closed && c.finals.at(-1) === 354;
    certainData = dataMode && c.finals.length - before === owed;
  }
  return { dataMode };
}

/** Ends the session as generated; returns a hang description when the server does not close when it must. */
async function end(c: Client, session: Session, dataMode: boolean, bounds: DriverBounds): Promise<string | undefined> {
  if (c.closed) return undefined;
  switch (session.ending) {
    case 'quit':
      if (dataMode || session.cutInside !== null) break;
      c.write(Buffer.from('QUIT\r\n'));
      if (!(await c.until(() => c.closed, bounds.replyMs))) return `QUIT did not close the connection within ${bounds.replyMs} ms`;
      break;
    case 'reset':
      c.socket.resetAndDestroy();
      return undefined;
    case 'half-close':
      c.socket.end();
      if (!(await c.until(() => c.closed, bounds.closeMs))) return `half-closed session still open after ${bounds.closeMs} ms`;
      break;
    case 'stall':
      if (!(await c.until(() => c.closed, bounds.closeMs))) return `stalled session (${dataMode ? 'in DATA' : 'commands'}) still open after ${bounds.closeMs} ms`;
      break;
    case 'close':
      break;
  }
  c.socket.destroy();
  return undefined;
}

export async function playSession(port: number, session: Session, bounds: DriverBounds): Promise<SessionOutcome> {
  const socket = await connect(port, session.outside ? OUTSIDE_ADDRESS : '127.0.0.1');
  if (!socket) return { acked: [], openRelay: false, unavailable: true };
  const c = new Client(socket);
  try {
    if (!(await c.until(() => c.closed || c.finals.length > 0, bounds.replyMs))) return { acked: [], openRelay: false, unavailable: false, hang: `no greeting within ${bounds.replyMs} ms` };
    if (c.finals[0] !== 220) return { acked: [], openRelay: false, unavailable: false };
    const played = await playSteps(c, session, bounds);
    const hang = played.hang ?? (await end(c, session, played.dataMode, bounds));
    return { acked: [...c.acked], openRelay: session.outside && c.acked.length > 0, unavailable: false, ...(hang ? { hang } : {}) };
  } finally {
    socket.destroy();
  }
}
