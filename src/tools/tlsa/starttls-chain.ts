/**
 * Fetch the certificate chain a live SMTP server presents (for
 * `tlsa generate --connect HOST:PORT [--starttls smtp]`).
 *
 * Contract: one connection — greeting (220), `EHLO`, `STARTTLS` (220; RFC 3207),
 * TLS handshake with SNI and no certificate checks (we only read what is
 * presented), `QUIT`. Without STARTTLS the connection is TLS from the start.
 * Nothing received in plaintext after the 220 to STARTTLS is used (C32).
 * The chain is what the server sent, leaf first, walked through
 * `getPeerCertificate(true)` with a seen-set (Node may append a root from its
 * own store when one matches: for `generate` that only adds an extra CA).
 * Every step is bounded by one overall timeout; errors are `{ kind: 'error' }`
 * values naming the stage; the socket is always destroyed before returning.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface FetchChainOptions {
  host: string;
  port: number;
  starttls: 'smtp' | 'none';
  /** SNI; omitted when undefined or an IP address. */
  servername?: string;
  ehloName: string;
  timeoutMs: number;
}
export type FetchChainResult =
  | { kind: 'ok'; chain: Uint8Array[]; protocol: string | null; cipher: string }
  | { kind: 'error'; stage: string; detail: string };

const MAX_REPLY_BYTES = 64 * 1024;

/** Reads SMTP replies (multi-line `250-…` / final `250 …`) from a socket. */
class ReplyReader {
  private buf = '';
  private waiter: ((r: { code: number; lines: string[] } | Error) => void) | null = null;
  private readonly onData = (chunk: Buffer): void => { this.buf += chunk.toString('latin1'); this.pump(); };

  constructor(private readonly socket: net.Socket) { socket.on('data', this.onData); }

  next(): Promise<{ code: number; lines: string[] }> {
    return new Promise((resolve, reject) => {
      this.waiter = (r) => (r instanceof Error ? reject(r) : resolve(r));
      this.pump();
    });
  }

  fail(err: Error): void { const w = this.waiter; this.waiter = null; w?.(err); }

  detach(): void { this.socket.off('data', this.onData); this.buf = ''; }

  private pump(): void {
    if (!this.waiter) return;
    if (this.buf.length > MAX_REPLY_BYTES) { this.fail(new Error('reply too long')); return; }
    const lines = this.buf.split(/\r?\n/);
    for (let i = 0; i < lines.length - 1; i++) {
      const m = /^(\d{3})(?: |$)/.exec(lines[i] ?? '');
      if (!m) continue;
      this.buf = lines.slice(i + 1).join('\n');
      const w = this.waiter; this.waiter = null;
      w({ code: Number(m[1]), lines: lines.slice(0, i + 1) });
      return;
    }
  }
}

class StageError extends Error { constructor(readonly stage: string, detail: string) { super(detail); } }

async function expect(reader: ReplyReader, stage: string, code: number): Promise<string[]> {
  const r = await reader.next().catch((e: Error) => { throw new StageError(stage, e.message); });
  if (r.code !== code) throw new StageError(stage, `expected ${code}, got: ${r.lines.join(' | ')}`);
  return r.lines;
}

function presentedChain(socket: tls.TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert && cert.raw && !seen.has(cert.fingerprint256) && chain.length < 16) {
    seen.add(cert.fingerprint256);
    chain.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

async function smtpPreamble(socket: net.Socket, opts: FetchChainOptions): Promise<void> {
  const reader = new ReplyReader(socket);
  try {
    await expect(reader, 'greeting', 220);
    socket.write(`EHLO ${opts.ehloName}\r\n`);
    const ehlo = await expect(reader, 'ehlo', 250);
    if (!ehlo.some((l) => /^250[ -]STARTTLS\b/i.test(l))) throw new StageError('ehlo', 'STARTTLS not offered by the server');
    socket.write('STARTTLS\r\n');
    await expect(reader, 'starttls', 220);
  } finally {
    reader.detach(); // C32: anything sent in plaintext after this point is discarded
  }
}

function handshake(socket: net.Socket | undefined, opts: FetchChainOptions, track: (s: net.Socket) => void): Promise<tls.TLSSocket> {
  const servername = opts.servername && net.isIP(opts.servername) === 0 ? opts.servername : undefined;
  return new Promise((resolve, reject) => {
    const base = { servername, rejectUnauthorized: false };
    const t = socket ? tls.connect({ ...base, socket }) : tls.connect({ ...base, host: opts.host, port: opts.port });
    track(t);
    t.once('secureConnect', () => resolve(t));
    t.once('error', (e) => reject(new StageError('handshake', e.message)));
  });
}

function connect(opts: FetchChainOptions, track: (s: net.Socket) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: opts.host, port: opts.port });
    track(s);
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new StageError('connect', e.message)));
  });
}

async function quit(t: tls.TLSSocket): Promise<void> {
  const reader = new ReplyReader(t);
  t.write('QUIT\r\n');
  await Promise.race([reader.next().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
  reader.detach();
}

export async function fetchPresentedChain(opts: FetchChainOptions): Promise<FetchChainResult> {
  const sockets: net.Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StageError('timeout', `no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
  });
  const track = (s: net.Socket): void => { sockets.push(s); };
  const run = async (): Promise<FetchChainResult> => {
    let plain: net.Socket | undefined;
    if (opts.starttls === 'smtp') {
      plain = await connect(opts, track);
      await smtpPreamble(plain, opts);
    }
    const t = await handshake(plain, opts, track);
    const result: FetchChainResult = { kind: 'ok', chain: presentedChain(t), protocol: t.getProtocol(), cipher: t.getCipher().name };
    if (opts.starttls === 'smtp') await quit(t);
    return result;
  };
  try {
    return await Promise.race([run(), timeout]);
  } catch (e) {
    if (e instanceof StageError) return { kind: 'error', stage: e.stage, detail: e.message };
    return { kind: 'error', stage: 'connect', detail: (e as Error).message };
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
  }
}
