/**
 * Test helpers for the DNS client: raw misbehaving UDP servers on 127.0.0.1
 * and a client factory with short, test-friendly limits.
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import { createDnsClient, type DnsClient, type DnsClientOptions } from '../../src/dns/client.ts';

export interface RawServer {
  host: string;
  port: number;
  /** queries received (decoded) */
  received: DecodedPacket[];
  /** send from this server's socket */
  send(buf: Buffer, port: number, address: string): void;
  close(): Promise<void>;
}

export type RawHandler = (q: DecodedPacket, reply: (buf: Buffer) => void, ctx: { port: number; address: string; server: RawServer }) => void;

/** A UDP server on 127.0.0.1 whose every answer is written by the test. */
export async function startRawUdp(handler: RawHandler): Promise<RawServer> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  const server: RawServer = {
    host: '127.0.0.1',
    port: sock.address().port,
    received: [],
    send: (buf, port, address) => sock.send(buf, port, address),
    close: () => new Promise<void>((res) => sock.close(() => res())),
  };
  sock.on('message', (msg, rinfo) => {
    let q: DecodedPacket;
    try { q = dnsPacket.decode(msg); } catch { return; }
    server.received.push(q);
    handler(q, (buf) => sock.send(buf, rinfo.port, rinfo.address), { port: rinfo.port, address: rinfo.address, server });
  });
  return server;
}

/** Encode a response to `q`, with overrides for the header, question and records. */
export function respond(q: DecodedPacket, o: {
  id?: number; name?: string; type?: string; rcode?: number; ad?: boolean; tc?: boolean;
  answers?: Answer[]; authorities?: Answer[];
} = {}): Buffer {
  const question = q.questions?.[0] ?? { name: '.', type: 'A' as const };
  const flags = dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (o.ad ? dnsPacket.AUTHENTIC_DATA : 0)
    | (o.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | (o.rcode ?? 0);
  return dnsPacket.encode({
    type: 'response', id: o.id ?? q.id ?? 0, flags,
    questions: [{ name: o.name ?? question.name, type: (o.type ?? question.type) as 'A', class: 'IN' }],
    answers: o.answers ?? [], authorities: o.authorities ?? [],
  });
}

export const aRecord = (name: string, address: string, ttl = 300): Answer => ({ name, type: 'A', ttl, class: 'IN', data: address });
export const cnameRecord = (name: string, target: string, ttl = 300): Answer => ({ name, type: 'CNAME', ttl, class: 'IN', data: target });

export function testClient(servers: Array<{ host: string; port: number }>, over: Partial<DnsClientOptions> = {}): DnsClient {
  return createDnsClient({
    servers,
    trustedNetworks: ['127.0.0.0/8', '::1/128'],
    timeoutMs: 1000,
    attempts: 2,
    cache: { maxEntries: 1000, maxTtlSeconds: 3600, failureTtlSeconds: 5, negativeMaxTtlSeconds: 900 },
    ...over,
  });
}

/** A settable clock for cache tests. */
export function fakeClock(start = 1_000_000): { now: () => number; advance: (seconds: number) => void } {
  let t = start;
  return { now: () => t, advance: (s) => { t += s * 1000; } };
}
