/**
 * One DNS exchange with one server: UDP first, TCP when the UDP answer is
 * truncated (RFC 1035 §4.2, RFC 7766).
 *
 * Contract:
 * - every attempt uses a fresh random query id (and, on UDP, a fresh socket so
 *   the OS picks a random source port);
 * - a UDP datagram is considered only when it comes from the server's address
 *   and port; a packet that decodes but does not answer our question (id,
 *   question name/type/class) is ignored and waiting continues; a packet that
 *   does not decode ends the attempt as `malformed`;
 * - each transport is bounded by `timeoutMs`; an aborted signal ends the
 *   attempt as `network` at once. Sockets are always closed. Never throws.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { decodeResponse, encodeQuery, randomQueryId, responseMismatch, type DnsResponse, type Question } from './wire.ts';

export interface DnsServer { host: string; port: number }

export type ExchangeOutcome =
  | { kind: 'response'; response: DnsResponse; transport: 'udp' | 'tcp' }
  | { kind: 'timeout'; detail: string }
  | { kind: 'malformed'; detail: string }
  | { kind: 'network'; detail: string };

export interface ExchangeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** called once per packet put on the wire (for the queriesSent counter) */
  onSend?: () => void;
}

const TCP_MAX = 65_537;

/** Same IP? Compares parsed forms so '::1' and '0:0::1' agree; IPv4-mapped IPv6 too. */
function sameAddress(a: string, b: string): boolean {
  try {
    return ipaddr.process(a).toNormalizedString() === ipaddr.process(b).toNormalizedString();
  } catch {
    return false;
  }
}

/** Runs `body` with a finish callback that fires once, clears the timer and the abort hook. */
function bounded(opts: ExchangeOptions, label: string,
  body: (finish: (o: ExchangeOutcome) => void) => () => void): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    let done = false;
    let cleanup: () => void = () => {};
    const onAbort = (): void => finish({ kind: 'network', detail: `${label}: aborted (client closed)` });
    const timer = setTimeout(() => finish({ kind: 'timeout', detail: `${label}: no answer within ${opts.timeoutMs} ms` }), opts.timeoutMs);
    function finish(o: ExchangeOutcome): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      try { cleanup(); } catch { /* closing an already closed socket */ }
      resolve(o);
    }
    if (opts.signal?.aborted) { onAbort(); return; }
    opts.signal?.addEventListener('abort', onAbort);
    cleanup = body(finish);
    if (done) cleanup();
  });
}

export function exchangeUdp(server: DnsServer, q: Question, opts: ExchangeOptions): Promise<ExchangeOutcome> {
  const label = `${fmt(server)} udp`;
  return bounded(opts, label, (finish) => {
    const id = randomQueryId();
    const sock = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    sock.on('error', (err) => finish({ kind: 'network', detail: `${label}: ${err.message}` }));
    sock.on('message', (msg, rinfo) => {
      if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.host)) return; // not from the server
      const d = decodeResponse(msg);
      if (d.kind === 'malformed') { finish({ kind: 'malformed', detail: `${label}: ${d.detail}` }); return; }
      if (responseMismatch(d.response, id, q) !== undefined) return; // spoofed or stale: ignore
      finish({ kind: 'response', response: d.response, transport: 'udp' });
    });
    opts.onSend?.();
    sock.send(encodeQuery(id, q), server.port, server.host, (err) => {
      if (err) finish({ kind: 'network', detail: `${label}: ${err.message}` });
    });
    return () => sock.close();
  });
}

export function exchangeTcp(server: DnsServer, q: Question, opts: ExchangeOptions): Promise<ExchangeOutcome> {
  const label = `${fmt(server)} tcp`;
  return bounded(opts, label, (finish) => {
    const id = randomQueryId();
    const sock = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    sock.on('error', (err) => finish({ kind: 'network', detail: `${label}: ${err.message}` }));
    sock.on('close', () => finish({ kind: 'network', detail: `${label}: connection closed before an answer` }));
    sock.on('connect', () => {
      const msg = encodeQuery(id, q);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      opts.onSend?.();
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > TCP_MAX) { finish({ kind: 'malformed', detail: `${label}: oversized stream` }); return; }
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const frame = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + frame.length);
        const d = decodeResponse(frame);
        if (d.kind === 'malformed') { finish({ kind: 'malformed', detail: `${label}: ${d.detail}` }); return; }
        if (responseMismatch(d.response, id, q) === undefined) {
          finish({ kind: 'response', response: d.response, transport: 'tcp' });
          return;
        }
      }
    });
    return () => sock.destroy();
  });
}

/** UDP, then TCP to the same server when the UDP answer has TC set. */
export async function exchange(server: DnsServer, q: Question, opts: ExchangeOptions): Promise<ExchangeOutcome> {
  const udp = await exchangeUdp(server, q, opts);
  if (udp.kind !== 'response' || !udp.response.tc) return udp;
  return exchangeTcp(server, q, opts);
}

export function fmt(s: DnsServer): string {
  return net.isIPv6(s.host) ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}
