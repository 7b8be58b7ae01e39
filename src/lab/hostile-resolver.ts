/**
 * A hostile "trusted" resolver for the fault suite (issue 19): a DNS server on
 * loopback, UDP and TCP on one ephemeral port, that answers each question with
 * the variant its caller chooses — the honest answer, a well-formed answer that
 * legitimately lowers the level, or one of the malformed, mismatched,
 * truncated, looping or random replies of hostile-answers.ts. It sets AD=1 on
 * almost everything: it plays the resolver the relay trusts (C6), which is
 * exactly when a misread answer would downgrade.
 *
 * Contract:
 * - `honest(name, type)` gives the answer a validating resolver would give
 *   (records, or none for NODATA, plus the zone for the SOA); `choose(query,
 *   transport)` picks the variant and its fuzz parameters per packet; every
 *   reply sent is reported to `onServe` (name, type, variant, transport), so
 *   the caller can tell what the relay was told;
 * - a query that does not decode is ignored; a TCP stream is read frame by
 *   frame (RFC 1035 §4.2.2, RFC 7766) and closed after an oversized frame;
 * - never throws from a socket handler; `close()` stops both listeners and
 *   destroys open TCP connections. Loopback only.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { hostileReply, type AnswerVariant, type HonestAnswer, type Query, type ReplyParams } from './hostile-answers.ts';
import { assertLoopback } from './shared-port.ts';

export interface ServedReply { name: string; type: string; variant: AnswerVariant; transport: 'udp' | 'tcp' }

export interface HostileResolverOptions {
  host?: string;
  honest(name: string, type: string): HonestAnswer;
  choose(q: Query, transport: 'udp' | 'tcp'): { variant: AnswerVariant; params: ReplyParams };
  onServe?: (s: ServedReply) => void;
}

export interface HostileResolver {
  host: string;
  port: number;
  /** "127.0.0.1:PORT" */
  address: string;
  /** packets received (UDP + TCP frames) */
  received(): number;
  close(): Promise<void>;
}

const TCP_MAX_BUFFER = 70_000;

function parseQuery(buf: Buffer): Query | undefined {
  try {
    const p = dnsPacket.decode(buf);
    const q = p.questions?.[0];
    if (p.type !== 'query' || q === undefined) return undefined;
    return { id: p.id ?? 0, name: q.name.toLowerCase().replace(/\.$/, ''), type: q.type };
  } catch {
    return undefined;
  }
}

function listenUdp(host: string, port: number, onMessage: (msg: Buffer, rinfo: dgram.RemoteInfo, sock: dgram.Socket) => void): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    sock.once('error', reject);
    sock.on('message', (m, r) => onMessage(m, r, sock));
    sock.bind(port, host, () => {
      sock.off('error', reject);
      sock.on('error', () => undefined);
      resolve(sock);
    });
  });
}

function listenTcp(host: string, port: number, onFrame: (frame: Buffer, sock: net.Socket) => void, open: Set<net.Socket>): Promise<net.Server> {
  const server = net.createServer((sock) => {
    open.add(sock);
    let buf = Buffer.alloc(0);
    sock.on('error', () => sock.destroy());
    sock.on('close', () => open.delete(sock));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > TCP_MAX_BUFFER) { sock.destroy(); return; }
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const frame = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + frame.length);
        onFrame(frame, sock);
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(server); });
  });
}

function frame(b: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(Math.min(b.length, 0xffff));
  return Buffer.concat([len, b.subarray(0, 0xffff)]);
}

/** The reply to one received packet (null: stay silent), reported to `onServe`. */
function replier(opts: HostileResolverOptions, counter: { n: number }): (buf: Buffer, transport: 'udp' | 'tcp') => Buffer | null {
  return (buf, transport) => {
    counter.n++;
    const q = parseQuery(buf);
    if (q === undefined) return null;
    const { variant, params } = opts.choose(q, transport);
    const out = hostileReply(variant, q, opts.honest(q.name, q.type), params, transport);
    opts.onServe?.({ name: q.name, type: q.type, variant, transport });
    return out;
  };
}

/** Starts UDP and TCP on one port; retries a few ports if TCP's is taken. */
export async function startHostileResolver(opts: HostileResolverOptions): Promise<HostileResolver> {
  const host = opts.host ?? '127.0.0.1';
  assertLoopback(host);
  const counter = { n: 0 };
  const open = new Set<net.Socket>();
  const reply = replier(opts, counter);
  for (let attempt = 0; attempt < 10; attempt++) {
    const udp = await listenUdp(host, 0, (msg, rinfo, sock) => {
      const out = reply(msg, 'udp');
      if (out !== null) sock.send(out, rinfo.port, rinfo.address, () => undefined);
    });
    const port = udp.address().port;
    let tcp: net.Server;
    try {
      tcp = await listenTcp(host, port, (f, sock) => {
        const out = reply(f, 'tcp');
        if (out !== null && !sock.destroyed) sock.write(frame(out));
      }, open);
    } catch {
      await new Promise<void>((r) => udp.close(() => r()));
      continue;
    }
    return {
      host, port, address: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
      received: () => counter.n,
      close: async () => {
        for (const s of open) s.destroy();
        await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
      },
    };
  }
  throw new Error('hostile resolver: no port free for both UDP and TCP after 10 attempts');
}
