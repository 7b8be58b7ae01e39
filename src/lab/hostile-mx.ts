/**
 * A hostile MX for the fault suite (issue 19): a small SMTP server on a
 * loopback address that misbehaves at one chosen stage, so tests can prove
 * every outbound wait is bounded and nothing is delivered where the policy
 * forbids it.
 *
 * Stages: `greeting`, `ehlo` (plaintext EHLO reply), `starttls` (reply to
 * STARTTLS), `handshake` (after `220`, instead of TLS), `ehlo-tls` (EHLO reply
 * inside TLS), `mail`, `rcpt`, `data` (the 354), `final` (reply to the dot).
 * Actions at that stage:
 * - `drip`: an endless reply, one byte every `dripMs` (resets any idle timer);
 * - `continuation`: endless `NNN-` continuation lines, fast;
 * - `silence`: nothing, ever; `reset`: TCP RST;
 * - `garbage`: bytes that are not SMTP (at `handshake`: not TLS).
 * Certificate chains (`chain`): `good` (the DANE key's leaf), `big` (good leaf
 * plus ~60 KB of unrelated certificates), `huge` (good leaf plus > 100 KB,
 * over OpenSSL's default certificate list limit), `impostor` (another key for
 * the same name), `misordered` (impostor leaf first, good one second).
 *
 * Contract: listens on loopback only (assertLoopback); records what it saw
 * (`stats`): connections, MAIL FROM in plaintext, complete messages with the
 * channel they came over and whether the leaf presented was the good one.
 * Hostile behaviour never throws out of the server; `close()` destroys every
 * socket and timer. Certificates come from certs.ts, generated at start.
 */
import net from 'node:net';
import tls from 'node:tls';
import { createSelfSigned, type IssuedCert } from './certs.ts';
import { assertLoopback } from './shared-port.ts';

export type HostileStage = 'greeting' | 'ehlo' | 'starttls' | 'handshake' | 'ehlo-tls' | 'mail' | 'rcpt' | 'data' | 'final';
export type HostileAction = 'drip' | 'continuation' | 'silence' | 'reset' | 'garbage';
export type ChainMode = 'good' | 'big' | 'huge' | 'impostor' | 'misordered';

export const HOSTILE_STAGES: readonly HostileStage[] = ['greeting', 'ehlo', 'starttls', 'handshake', 'ehlo-tls', 'mail', 'rcpt', 'data', 'final'];
export const HOSTILE_ACTIONS: readonly HostileAction[] = ['drip', 'continuation', 'silence', 'reset', 'garbage'];
export const CHAIN_MODES: readonly ChainMode[] = ['good', 'big', 'huge', 'impostor', 'misordered'];

export interface HostileBehaviour {
  /** Where to misbehave; none: a well-behaved server. */
  stage?: HostileStage;
  action?: HostileAction;
  /** Default 'good'. */
  chain?: ChainMode;
  /** Offer STARTTLS (default true); false also refuses the verb with 502. */
  starttls?: boolean;
  /** Advertise PIPELINING (default false). */
  pipelining?: boolean;
  /** Milliseconds between dripped bytes (default 20). */
  dripMs?: number;
}

export interface HostileMessage { secure: boolean; goodLeaf: boolean; size: number }

export interface HostileStats {
  connections: number;
  /** MAIL FROM commands received outside TLS. */
  plainMail: number;
  tlsSessions: number;
  messages: HostileMessage[];
}

/** The certificates the hostile MX can present, for one MX host name. */
export interface HostileCerts { good: IssuedCert; impostor: IssuedCert; filler: IssuedCert }

export async function createHostileCerts(name: string): Promise<HostileCerts> {
  return {
    good: await createSelfSigned({ dnsNames: [name] }),
    impostor: await createSelfSigned({ dnsNames: [name] }),
    filler: await createSelfSigned({ dnsNames: ['filler.invalid'], keyType: 'rsa' }),
  };
}

function chainPem(c: HostileCerts, mode: ChainMode): { key: string; cert: string } {
  const fill = (bytes: number): string => c.filler.certPem.repeat(Math.ceil(bytes / c.filler.der.length));
  switch (mode) {
    case 'good': return { key: c.good.keyPem, cert: c.good.certPem };
    case 'big': return { key: c.good.keyPem, cert: c.good.certPem + fill(60_000) };
    case 'huge': return { key: c.good.keyPem, cert: c.good.certPem + fill(140_000) };
    case 'impostor': return { key: c.impostor.keyPem, cert: c.impostor.certPem };
    case 'misordered': return { key: c.impostor.keyPem, cert: c.impostor.certPem + c.good.certPem };
  }
}

export interface HostileMx {
  host: string;
  port: number;
  stats: HostileStats;
  /** Behaviour for connections accepted from now on. */
  setBehaviour(b: HostileBehaviour): void;
  close(): Promise<void>;
}

const GARBAGE = Buffer.from('garbage\x00\xfe\x16\x03\x01 not smtp, not tls\r\n', 'latin1');

/** `sock` is what SMTP is spoken on (the TLS socket once upgraded); `raw` is the TCP socket. */
interface Conn { b: HostileBehaviour; sock: net.Socket; raw: net.Socket; secure: boolean; stuck: boolean; timers: Set<NodeJS.Timeout> }

/** TCP RST on the TCP socket (a TLS socket's handle cannot be reset); a plain destroy if that is refused. */
function resetTcp(c: Conn): void {
  try { c.raw.resetAndDestroy(); } catch { c.raw.destroy(); }
  c.sock.destroy();
}

/** Misbehave at `stage` on `c`; true when the stage's normal reply must not be sent. */
function misbehave(c: Conn, stage: HostileStage, code: number): boolean {
  if (c.b.stage !== stage) return false;
  const s = c.sock;
  c.stuck = c.b.action !== 'garbage';
  const every = (ms: number, fn: () => void): void => { const t = setInterval(() => { if (s.destroyed) clearInterval(t); else fn(); }, ms); c.timers.add(t); };
  switch (c.b.action ?? 'silence') {
    case 'silence': break;
    case 'reset': resetTcp(c); break;
    // At the handshake, answer the ClientHello (garbage sent with the 220 would be discarded as injection, C32).
    case 'garbage': if (stage === 'handshake') s.once('data', () => s.write(GARBAGE)); else s.write(GARBAGE); break;
    case 'continuation': every(2, () => s.write(`${code}-${'more '.repeat(15)}\r\n`.repeat(8))); break;
    case 'drip': {
      const text = Buffer.from(`${code}-drip drip drip\r\n`);
      let i = 0;
      every(c.b.dripMs ?? 20, () => { s.write(text.subarray(i % text.length, (i % text.length) + 1)); i++; });
      break;
    }
  }
  return true;
}

function ehloReply(c: Conn): string {
  const ext = ['SIZE 10485760', '8BITMIME', ...(c.b.pipelining ? ['PIPELINING'] : []), ...(!c.secure && c.b.starttls !== false ? ['STARTTLS'] : [])];
  return ['hostile.test greets you', ...ext].map((l, i, all) => `250${i === all.length - 1 ? ' ' : '-'}${l}`).join('\r\n') + '\r\n';
}

export async function startHostileMx(o: { host: string; port: number; certs: HostileCerts }): Promise<HostileMx> {
  assertLoopback(o.host);
  const stats: HostileStats = { connections: 0, plainMail: 0, tlsSessions: 0, messages: [] };
  const live = new Set<Conn>();
  let behaviour: HostileBehaviour = {};

  const upgrade = (c: Conn): void => {
    const pem = chainPem(o.certs, c.b.chain ?? 'good');
    const t = new tls.TLSSocket(c.sock, { isServer: true, key: pem.key, cert: pem.cert });
    t.on('error', () => t.destroy());
    t.once('secure', () => { stats.tlsSessions++; });
    const tc: Conn = { ...c, sock: t, secure: true };
    live.add(tc);
    t.on('close', () => live.delete(tc));
    serve(tc);
  };

  const serve = (c: Conn): void => {
    let buf = '';
    let data: string[] | null = null;
    const goodLeaf = ['good', 'big', 'huge'].includes(c.b.chain ?? 'good');
    const say = (stage: HostileStage, code: number, text: string): void => {
      if (!misbehave(c, stage, code) && !c.sock.destroyed) c.sock.write(text);
    };
    const onLine = (line: string): void => {
      if (data) {
        if (line !== '.') { data.push(line); return; }
        stats.messages.push({ secure: c.secure, goodLeaf, size: data.join('\r\n').length });
        data = null;
        say('final', 250, '250 2.0.0 Ok: queued\r\n');
        return;
      }
      const verb = (line.split(' ')[0] ?? '').toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') say(c.secure ? 'ehlo-tls' : 'ehlo', 250, ehloReply(c));
      else if (verb === 'STARTTLS' && !c.secure && c.b.starttls !== false) {
        say('starttls', 220, '220 2.0.0 Ready to start TLS\r\n');
        if (c.stuck || c.sock.destroyed) return;
        c.sock.removeListener('data', onData);
        if (!misbehave(c, 'handshake', 220)) upgrade(c);
      } else if (verb === 'MAIL') {
        if (!c.secure) stats.plainMail++;
        say('mail', 250, '250 2.1.0 Ok\r\n');
      } else if (verb === 'RCPT') say('rcpt', 250, '250 2.1.5 Ok\r\n');
      else if (verb === 'DATA') { say('data', 354, '354 End data with <CR><LF>.<CR><LF>\r\n'); if (!c.stuck) data = []; }
      else if (verb === 'QUIT') c.sock.end('221 2.0.0 Bye\r\n');
      else if (verb === 'RSET' || verb === 'NOOP') c.sock.write('250 2.0.0 Ok\r\n');
      else c.sock.write('502 5.5.2 Error: command not recognized\r\n');
    };
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString('latin1');
      if (buf.length > 1_000_000) { c.sock.destroy(); return; }
      for (let i = buf.indexOf('\r\n'); i >= 0 && !c.stuck && !c.sock.destroyed; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onLine(line);
        if (!c.secure && /^STARTTLS/i.test(line) && c.b.starttls !== false) return; // the rest is TLS (or discarded)
      }
    };
    c.sock.on('data', onData);
  };

  const server = net.createServer((sock) => {
    stats.connections++;
    const c: Conn = { b: behaviour, sock, raw: sock, secure: false, stuck: false, timers: new Set() };
    live.add(c);
    sock.on('error', () => sock.destroy());
    sock.on('close', () => { for (const t of c.timers) clearInterval(t); live.delete(c); });
    if (!misbehave(c, 'greeting', 220)) sock.write('220 hostile.test ESMTP\r\n');
    if (!c.stuck) serve(c);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => { server.off('error', reject); resolve(); });
  });
  server.on('error', () => undefined);
  return {
    host: o.host, port: o.port, stats,
    setBehaviour: (b) => { behaviour = b; },
    close: () => new Promise<void>((resolve) => {
      for (const c of live) { for (const t of c.timers) clearInterval(t); c.sock.destroy(); }
      server.close(() => resolve());
    }),
  };
}
