/**
 * Open a TLS connection to one address of a service and read the chain it
 * presents: TLS from the start, or after STARTTLS for SMTP (RFC 3207) and
 * IMAP (RFC 3501 §6.2.1).
 *
 * Contract:
 * - SMTP: greeting 220, EHLO, STARTTLS offered, `STARTTLS` → 220. IMAP:
 *   greeting `* OK`, `a1 STARTTLS` → `a1 OK`. Bytes that arrive after the
 *   STARTTLS reply and before the handshake are discarded and counted
 *   (`injectionBytes`, C32): nothing read in plaintext is used afterwards.
 * - The handshake uses SNI = the service host name and accepts any chain:
 *   verification is done afterwards by core (service-dane / verify-peer).
 * - Every step is bounded by one overall timeout; the socket is always
 *   destroyed before returning; the result is a value, never a throw.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Starttls } from './target.ts';

export interface ServiceConnectOptions {
  ip: string;
  port: number;
  servername: string;
  starttls: Starttls;
  ehloName: string;
  timeoutMs: number;
}

export type ServiceConnectResult =
  | { kind: 'tls'; chain: Uint8Array[]; protocol: string | null; cipher: string | null; bits: number | null; injectionBytes: number }
  | { kind: 'error'; stage: 'connect' | 'preamble' | 'handshake' | 'timeout'; detail: string; connected: boolean };

class StageError extends Error {
  constructor(readonly stage: 'connect' | 'preamble' | 'handshake', detail: string) { super(detail); }
}

/** Line reader on a plaintext socket; `until` resolves with the first line matching. */
function lineReader(socket: net.Socket): { until(re: RegExp, stage: string): Promise<string>; stop(): number } {
  let buf = '';
  let waiting: { re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void } | null = null;
  let after = 0;
  const pump = (): void => {
    while (waiting) {
      const nl = buf.indexOf('\n');
      if (nl < 0) { if (buf.length > 65536) waiting.reject(new StageError('preamble', 'reply too long')); return; }
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (waiting.re.test(line)) { const w = waiting; waiting = null; after = Buffer.byteLength(buf, 'latin1'); w.resolve(line); }
    }
  };
  const onData = (c: Buffer): void => { if (!waiting) after += c.length; buf += c.toString('latin1'); pump(); };
  const onClose = (): void => waiting?.reject(new StageError('preamble', 'connection closed by the server'));
  socket.on('data', onData).on('close', onClose);
  return {
    until: (re) => new Promise((resolve, reject) => { waiting = { re, resolve, reject }; pump(); }),
    stop: () => { socket.off('data', onData).off('close', onClose); return after; },
  };
}

async function expectLine(r: ReturnType<typeof lineReader>, re: RegExp, final: RegExp, what: string): Promise<string> {
  const line = await r.until(final, what);
  if (!re.test(line)) throw new StageError('preamble', `${what}: unexpected reply: ${line.slice(0, 200)}`);
  return line;
}

async function smtpPreamble(s: net.Socket, r: ReturnType<typeof lineReader>, ehlo: string): Promise<void> {
  await expectLine(r, /^220/, /^\d{3}(?: |$)/, 'greeting');
  s.write(`EHLO ${ehlo}\r\n`);
  const lines: string[] = [];
  for (;;) { const l = await r.until(/^\d{3}[ -]|^\d{3}$/, 'ehlo'); lines.push(l); if (!/^\d{3}-/.test(l)) break; }
  if (!/^250/.test(lines.at(-1) ?? '')) throw new StageError('preamble', `EHLO refused: ${lines.at(-1) ?? ''}`);
  if (!lines.some((l) => /^250[ -]STARTTLS\b/i.test(l))) throw new StageError('preamble', 'STARTTLS not offered by the server');
  s.write('STARTTLS\r\n');
  await expectLine(r, /^220/, /^\d{3}(?: |$)/, 'STARTTLS');
}

async function imapPreamble(s: net.Socket, r: ReturnType<typeof lineReader>): Promise<void> {
  await expectLine(r, /^\* OK/i, /^\* (OK|BYE|PREAUTH)/i, 'greeting');
  s.write('a1 STARTTLS\r\n');
  await expectLine(r, /^a1 OK/i, /^a1 /i, 'STARTTLS');
}

function presentedChain(t: tls.TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let c: tls.DetailedPeerCertificate | undefined = t.getPeerCertificate(true);
  while (c?.raw && !seen.has(c.fingerprint256) && chain.length < 16) {
    seen.add(c.fingerprint256);
    chain.push(new Uint8Array(c.raw));
    c = c.issuerCertificate;
  }
  return chain;
}

function once<T>(emitter: net.Socket, ok: string, stage: 'connect' | 'handshake', value: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    emitter.once(ok, () => resolve(value()));
    emitter.once('error', (e) => reject(new StageError(stage, e.message)));
  });
}

export async function connectService(o: ServiceConnectOptions): Promise<ServiceConnectResult> {
  const sockets: net.Socket[] = [];
  let connected = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ServiceConnectResult>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'error', stage: 'timeout', detail: `no answer within ${o.timeoutMs} ms`, connected }), o.timeoutMs);
  });
  const run = async (): Promise<ServiceConnectResult> => {
    let injectionBytes = 0;
    let plain: net.Socket | undefined;
    if (o.starttls !== 'none') {
      plain = net.connect({ host: o.ip, port: o.port });
      sockets.push(plain);
      await once(plain, 'connect', 'connect', () => undefined);
      connected = true;
      const r = lineReader(plain);
      try { await (o.starttls === 'smtp' ? smtpPreamble(plain, r, o.ehloName) : imapPreamble(plain, r)); } finally { injectionBytes = r.stop(); }
    }
    const base = { servername: o.servername, rejectUnauthorized: false };
    const t = plain ? tls.connect({ ...base, socket: plain }) : tls.connect({ ...base, host: o.ip, port: o.port });
    sockets.push(t);
    if (!plain) t.once('connect', () => { connected = true; });
    await once(t, 'secureConnect', 'handshake', () => undefined);
    connected = true;
    const c = t.getCipher();
    return { kind: 'tls', chain: presentedChain(t), protocol: t.getProtocol(), cipher: c?.name ?? null, bits: null, injectionBytes };
  };
  try {
    return await Promise.race([run(), timeout]);
  } catch (e) {
    const stage = e instanceof StageError ? e.stage : 'connect';
    return { kind: 'error', stage, detail: (e as Error).message, connected };
  } finally {
    clearTimeout(timer);
    for (const s of sockets.reverse()) s.destroy(); // the TLS socket before the plaintext one it wraps
  }
}
