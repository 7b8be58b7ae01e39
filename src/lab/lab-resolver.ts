/**
 * Lab resolver: a loopback DNS server (UDP and TCP on the same ephemeral port)
 * that PLAYS a validating recursive resolver, as Unbound would answer the relay,
 * for scenario zones. It holds no real signatures: a zone is "signed" by a flag,
 * and the AD bit is set exactly when every zone an answer came from is signed
 * and the resolver is `validating` (RFC 4035 §3.2.3; checklist C1, C6).
 *
 * Answer rules (names compared case-insensitively):
 * - the zone with the longest matching origin answers; no zone → NXDOMAIN, AD
 *   clear. A query for the root itself (`. NS`, the DNSSEC self-check, C6) is
 *   answered from a built-in signed root unless the scenario supplies a root zone;
 * - `bogus` / `lame` (after `lameDelayMs`) / listed `servfail` pairs → SERVFAIL
 *   (how a validating resolver reports bogus or unreachable data, C1);
 *   listed `drop` pairs are never answered;
 * - CNAME at the name (qtype ≠ CNAME) → the chain is followed across zones
 *   (at most 8 links), then the target's records; AD only when every zone on the
 *   chain is signed; a loop stops the chain where it repeats (the client decides);
 * - NODATA (name exists, or has names below it) and NXDOMAIN carry the zone SOA
 *   in the authority section;
 * - the query id and question are echoed, QR and RA set, RD copied; an OPT
 *   record is returned when the query had one; a UDP reply larger than the
 *   client's advertised size (512 without EDNS) is sent with TC=1 and no records.
 *
 * Failure modes: malformed packets are counted nowhere and ignored; the server
 * never throws from a socket handler. Loopback only (host defaults to 127.0.0.1).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';

export interface LabRecord {
  name: string;
  type: 'A' | 'AAAA' | 'MX' | 'TLSA' | 'CNAME' | 'NS' | 'SOA' | 'TXT';
  ttl?: number;
  /** dns-packet answer `data`: MX {preference, exchange}, TLSA {usage, selector, matchingType, certificate: Buffer}, A '127.0.0.2' */
  data: unknown;
}
export interface LabZone {
  /** 'example.com'; '' or '.' is the root */
  origin: string;
  signed: boolean;
  records: LabRecord[];
  /** whole zone answers SERVFAIL (a validating resolver finding bogus signatures) */
  bogus?: boolean;
  /** zone's servers unreachable: SERVFAIL after `lameDelayMs` (default 0) */
  lame?: boolean;
  lameDelayMs?: number;
  /** name+type pairs answering SERVFAIL, e.g. [{name:'_25._tcp.mx.example.com', type:'TLSA'}] */
  servfail?: Array<{ name: string; type: string }>;
  /** name+type pairs never answered (client times out) */
  drop?: Array<{ name: string; type: string }>;
}
export interface LabResolverOptions {
  zones: LabZone[];
  /** default 127.0.0.1 */
  host?: string;
  /** default true; false = never sets AD (a non-validating resolver) */
  validating?: boolean;
  /** answer every UDP query with TC=1 and no records, forcing TCP */
  truncateUdp?: boolean;
}
export interface LabResolver {
  host: string;
  port: number;
  /** "127.0.0.1:PORT" */
  address: string;
  /** number of queries received (UDP+TCP), and the log of them */
  queryCount(): number;
  queries(): Array<{ name: string; type: string; transport: 'udp' | 'tcp' }>;
  resetCounters(): void;
  setZones(zones: LabZone[]): void;
  setValidating(v: boolean): void;
  close(): Promise<void>;
}

type Transport = 'udp' | 'tcp';
const MAX_CHAIN = 8;
const DEFAULT_TTL = 300;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;
const TCP_MAX_BUFFER = 70_000;

/** What the resolver decided for one question. */
type Decision =
  | { kind: 'drop' }
  | { kind: 'reply'; rcode: number; ad: boolean; answers: Answer[]; authorities: Answer[]; delayMs: number };

const norm = (n: string): string => n.toLowerCase().replace(/\.+$/, '').replace(/^\.$/, '');
const under = (name: string, origin: string): boolean =>
  origin === '' || name === origin || name.endsWith('.' + origin);
const pairListed = (list: Array<{ name: string; type: string }> | undefined, name: string, type: string): boolean =>
  (list ?? []).some((p) => norm(p.name) === name && p.type.toUpperCase() === type);

const DEFAULT_ROOT: LabZone = {
  origin: '', signed: true,
  records: [{ name: '.', type: 'NS', data: 'a.root-servers.lab' }],
};

function findZone(zones: LabZone[], name: string): LabZone | undefined {
  let best: LabZone | undefined;
  for (const z of zones) {
    const o = norm(z.origin);
    if (under(name, o) && (best === undefined || o.length > norm(best.origin).length)) best = z;
  }
  if (best === undefined && name === '') return DEFAULT_ROOT;
  return best;
}

/** Scenario data → dns-packet data; TLSA certificate data may be given as any Uint8Array. */
function wireData(r: LabRecord): unknown {
  const d = r.data as { certificate?: unknown } | null;
  if (r.type === 'TLSA' && d && d.certificate instanceof Uint8Array && !Buffer.isBuffer(d.certificate)) {
    return { ...d, certificate: Buffer.from(d.certificate) };
  }
  return r.data;
}

function toAnswer(r: LabRecord): Answer {
  return { name: norm(r.name) || '.', type: r.type, ttl: r.ttl ?? DEFAULT_TTL, class: 'IN', data: wireData(r) } as Answer;
}

function soaOf(zone: LabZone): Answer {
  const origin = norm(zone.origin);
  const own = zone.records.find((r) => r.type === 'SOA' && norm(r.name) === origin);
  if (own) return toAnswer(own);
  const suffix = origin === '' ? 'lab' : origin;
  return {
    name: origin || '.', type: 'SOA', ttl: DEFAULT_TTL, class: 'IN',
    data: { mname: `ns.${suffix}`, rname: `hostmaster.${suffix}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: DEFAULT_TTL },
  };
}

/** Resolve one question against the zones, as a validating resolver would. */
export function decide(zones: LabZone[], validating: boolean, qname: string, qtype: string): Decision {
  const chain: Answer[] = [];
  const seen = new Set<string>();
  let name = norm(qname);
  let secure = true;
  const reply = (rcode: number, answers: Answer[], authorities: Answer[] = [], delayMs = 0): Decision =>
    ({ kind: 'reply', rcode, ad: rcode !== RCODE.SERVFAIL && secure && validating, answers, authorities, delayMs });
  for (let step = 0; step <= MAX_CHAIN; step++) {
    seen.add(name);
    const zone = findZone(zones, name);
    if (!zone) { secure = false; return reply(RCODE.NXDOMAIN, chain); }
    if (zone.lame) return reply(RCODE.SERVFAIL, [], [], zone.lameDelayMs ?? 0);
    if (zone.bogus || pairListed(zone.servfail, name, qtype)) return reply(RCODE.SERVFAIL, []);
    if (pairListed(zone.drop, name, qtype)) return { kind: 'drop' };
    secure &&= zone.signed;
    const atName = zone.records.filter((r) => norm(r.name) === name);
    const hits = atName.filter((r) => r.type === qtype);
    if (hits.length > 0) return reply(RCODE.NOERROR, [...chain, ...hits.map(toAnswer)]);
    const cname = atName.find((r) => r.type === 'CNAME');
    if (cname && qtype !== 'CNAME') {
      chain.push(toAnswer(cname));
      name = norm(String(cname.data));
      if (seen.has(name)) return reply(RCODE.NOERROR, chain); // loop: hand it to the client as is
      continue;
    }
    const exists = atName.length > 0 || zone.records.some((r) => norm(r.name).endsWith('.' + name) || name === '');
    return reply(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, chain, [soaOf(zone)]);
  }
  return reply(RCODE.NOERROR, chain); // overlong chain: returned as far as followed
}

function encodeReply(q: DecodedPacket, d: Extract<Decision, { kind: 'reply' }>, transport: Transport, forceTc: boolean): Buffer {
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT');
  const flags = dnsPacket.RECURSION_AVAILABLE | (q.flag_rd ? dnsPacket.RECURSION_DESIRED : 0)
    | (d.ad ? dnsPacket.AUTHENTIC_DATA : 0) | d.rcode;
  const additionals: Answer[] = opt && opt.type === 'OPT'
    ? [{ name: '.', type: 'OPT', udpPayloadSize: 1232, flags: opt.flag_do ? dnsPacket.DNSSEC_OK : 0, options: [] } as unknown as Answer]
    : [];
  const base: Packet = { type: 'response', id: q.id ?? 0, flags, questions: q.questions ?? [], additionals };
  const full = dnsPacket.encode({ ...base, answers: d.answers, authorities: d.authorities });
  const limit = opt && opt.type === 'OPT' ? Math.max(512, opt.udpPayloadSize) : 512;
  if (transport === 'udp' && (forceTc || full.length > limit)) {
    return dnsPacket.encode({ ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
  }
  return full;
}

interface State {
  zones: LabZone[];
  validating: boolean;
  truncateUdp: boolean;
  log: Array<{ name: string; type: string; transport: Transport }>;
  timers: Set<NodeJS.Timeout>;
}

/** Decode, log and answer one query; `send` is called at most once (later, if lame). */
function handleQuery(state: State, msg: Buffer, transport: Transport, send: (b: Buffer) => void): void {
  let q: DecodedPacket;
  try { q = dnsPacket.decode(msg); } catch { return; }
  const question = q.questions?.[0];
  if (q.flag_qr || !question || q.questions?.length !== 1) return;
  state.log.push({ name: question.name, type: question.type, transport });
  let out: Buffer;
  let delayMs = 0;
  try {
    const d = decide(state.zones, state.validating, question.name, question.type.toUpperCase());
    if (d.kind === 'drop') return;
    out = encodeReply(q, d, transport, transport === 'udp' && state.truncateUdp);
    delayMs = d.delayMs;
  } catch {
    return; // a scenario record dns-packet cannot encode: behave like a dropped query
  }
  if (delayMs <= 0) { send(out); return; }
  const t = setTimeout(() => { state.timers.delete(t); send(out); }, delayMs);
  state.timers.add(t);
}

function serveTcp(state: State, sock: net.Socket): void {
  let buf = Buffer.alloc(0);
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length > TCP_MAX_BUFFER) { sock.destroy(); return; }
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      const frame = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      handleQuery(state, frame, 'tcp', (out) => {
        if (sock.destroyed) return;
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(out.length);
        sock.write(Buffer.concat([prefix, out]));
      });
    }
  });
}

async function bindBoth(host: string, onUdp: (s: dgram.Socket) => void, onTcp: net.Server): Promise<{ udp: dgram.Socket; port: number }> {
  const family = net.isIPv6(host) ? 'udp6' : 'udp4';
  let lastErr: unknown;
  for (let i = 0; i < 8; i++) {
    const udp = dgram.createSocket(family);
    await new Promise<void>((res, rej) => { udp.once('error', rej); udp.bind(0, host, () => { udp.off('error', rej); res(); }); });
    const port = udp.address().port;
    try {
      await new Promise<void>((res, rej) => {
        onTcp.once('error', rej);
        onTcp.listen(port, host, () => { onTcp.off('error', rej); res(); });
      });
      onUdp(udp);
      return { udp, port };
    } catch (err) {
      lastErr = err;
      await new Promise<void>((res) => udp.close(() => res()));
    }
  }
  throw new Error(`lab resolver: could not bind UDP and TCP on one port: ${String(lastErr)}`);
}

export async function startLabResolver(opts: LabResolverOptions): Promise<LabResolver> {
  const host = opts.host ?? '127.0.0.1';
  const state: State = {
    zones: opts.zones, validating: opts.validating ?? true, truncateUdp: opts.truncateUdp ?? false,
    log: [], timers: new Set(),
  };
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    serveTcp(state, sock);
  });
  const { udp, port } = await bindBoth(host, (u) => {
    u.on('error', () => { /* ignored: a lab server never crashes on a socket error */ });
    u.on('message', (msg, rinfo) => handleQuery(state, msg, 'udp', (out) => {
      try { u.send(out, rinfo.port, rinfo.address); } catch { /* socket closed */ }
    }));
  }, tcp);
  let closed = false;
  return {
    host, port,
    address: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
    queryCount: () => state.log.length,
    queries: () => state.log.map((q) => ({ ...q })),
    resetCounters: () => { state.log = []; },
    setZones: (zones) => { state.zones = zones; },
    setValidating: (v) => { state.validating = v; },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((res) => udp.close(() => res())),
        new Promise<void>((res) => tcp.close(() => res())),
      ]);
    },
  };
}
