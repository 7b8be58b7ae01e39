/**
 * What a hostile (or broken) trusted resolver can say instead of the honest
 * answer: every variant the fault run of issue 19 used, and the well-formed
 * answers that legitimately lower the level, as pure packet builders for the
 * hostile resolver (hostile-resolver.ts).
 *
 * Contract: `hostileReply(variant, query, honest, params, transport)` returns
 * the bytes to send (or null: stay silent). `honest` is the answer a
 * validating resolver would give (NOERROR with records, AD=1). Every variant
 * except those in WELL_FORMED_VARIANTS is something the relay must treat as a
 * lookup failure or ignore (checklist C1/C4, RFC 1035 §4.1, RFC 2181 §5.4.1,
 * RFC 4035 §3.1.1, RFC 6604 §3, RFC 6672): it must never lower the level.
 * `permits` says what a well-formed variant allows the relay to do. The one
 * exception: `mutated` flips bytes after the header, and a flip inside RDATA
 * can leave a well-formed record with other content (another address, an
 * unusable TLSA record); `permits` accounts for the latter. Pure.
 */
import dnsPacket from 'dns-packet';
import type { Answer, Packet } from 'dns-packet';

export const WELL_FORMED_VARIANTS = ['honest', 'insecure', 'secure-nodata', 'unknown-usage', 'tlsa-rdata-3', 'tlsa-bad-digest'] as const;
export const HOSTILE_VARIANTS = [
  'tc-loop', 'rrsig-only', 'dname-at-owner', 'dname-loop', 'other-owner', 'nxdomain-with-answer', 'short-rdlength',
  'rdata-0', 'wrong-id', 'other-question', 'cname-loop', 'cname-long',
  'truncated-packet', 'random-bytes', 'mutated', 'servfail', 'silence',
] as const;
export type WellFormedVariant = (typeof WELL_FORMED_VARIANTS)[number];
export type HostileVariant = (typeof HOSTILE_VARIANTS)[number];
export type AnswerVariant = WellFormedVariant | HostileVariant;

/** Fuzz parameters of one reply: small numbers and bytes the variants draw on. */
export interface ReplyParams { n: number; bytes: Uint8Array }

export interface HonestAnswer { answers: Answer[]; soaZone: string }

export interface Query { id: number; name: string; type: string }

/** What a well-formed variant of an answer to `type` lets the relay do (everything else permits nothing). */
export function permits(variant: AnswerVariant, type: string): { plaintext: boolean; impostor: boolean } {
  const lowers = (variant === 'insecure' && (type === 'A' || type === 'AAAA' || type === 'TLSA')) || (variant === 'secure-nodata' && type === 'TLSA');
  // C15: a secure RRset of unusable records still demands TLS, unauthenticated: an unknown usage, empty
  // association data (3-byte RDATA) or a digest of the wrong length (C13, C27). A `mutated` TLSA answer
  // can by chance stay well-formed with a flipped usage/selector/matching type: counted the same way.
  const unusable = (variant === 'unknown-usage' || variant === 'tlsa-rdata-3' || variant === 'tlsa-bad-digest' || variant === 'mutated') && type === 'TLSA';
  return { plaintext: lowers, impostor: lowers || unusable };
}

const FLAGS = dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

function soa(zone: string): Answer {
  return { name: zone, type: 'SOA', ttl: 60, class: 'IN', data: { mname: `ns.${zone}`, rname: `h.${zone}`, serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 } };
}

function rrsig(name: string, covered: string, zone: string): Answer {
  return {
    name, type: 'RRSIG', ttl: 60, class: 'IN',
    data: { typeCovered: covered, algorithm: 13, labels: name.split('.').length, originalTTL: 60, expiration: 2_000_000_000, inception: 1_000_000_000, keyTag: 7, signersName: zone, signature: Buffer.alloc(64, 5) },
  } as unknown as Answer;
}

const cname = (name: string, target: string): Answer => ({ name, type: 'CNAME', ttl: 60, class: 'IN', data: target });
const dname = (name: string, target: string): Answer => ({ name, type: 'DNAME', ttl: 60, class: 'IN', data: target } as unknown as Answer);
const parent = (name: string): string => name.split('.').slice(1).join('.') || '.';

function encode(q: Query, o: { answers?: Answer[]; authorities?: Answer[]; ad?: boolean; tc?: boolean; rcode?: number; id?: number; name?: string }): Buffer {
  const flags = FLAGS | (o.ad === false ? 0 : dnsPacket.AUTHENTIC_DATA) | (o.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | (o.rcode ?? RCODE.NOERROR);
  const p: Packet = {
    type: 'response', id: o.id ?? q.id, flags,
    questions: [{ name: o.name ?? q.name, type: q.type as 'A', class: 'IN' }],
    answers: o.answers ?? [], authorities: o.authorities ?? [],
  };
  return dnsPacket.encode(p);
}

/** Offset of the RDLENGTH field of the last record of `buf`, whose last record starts at `start`. */
function rdlengthOffset(buf: Buffer, start: number): number {
  let off = start;
  while (off < buf.length) {
    const len = buf[off]!;
    if (len === 0) { off += 1; break; }
    if ((len & 0xc0) === 0xc0) { off += 2; break; }
    off += 1 + len;
  }
  return off + 8;
}

/** The honest packet with its last answer's RDATA replaced by `rdata` (RDLENGTH = `declared`, default its length). */
function withLastRdata(q: Query, answers: Answer[], rdata: Buffer | null, declared?: number): Buffer {
  const full = encode(q, { answers });
  const start = encode(q, { answers: answers.slice(0, -1) }).length;
  const at = rdlengthOffset(full, start);
  const head = Buffer.from(full.subarray(0, at + 2));
  const body = rdata ?? full.subarray(at + 2);
  head.writeUInt16BE(declared ?? body.length, at);
  return Buffer.concat([head, body]);
}

const tlsaWith = (answers: Answer[], f: (d: Record<string, unknown>) => Record<string, unknown>): Answer[] =>
  answers.map((a) => (a.type === 'TLSA' ? ({ ...a, data: f(a.data as unknown as Record<string, unknown>) } as unknown as Answer) : a));

function chainVariant(v: 'cname-loop' | 'cname-long' | 'dname-loop', q: Query, h: HonestAnswer): Answer[] {
  if (v === 'cname-loop') return [cname(q.name, `loop.${q.name}`), cname(`loop.${q.name}`, q.name)];
  if (v === 'dname-loop') return [dname(parent(q.name), parent(q.name)), cname(q.name, q.name)];
  const links = Array.from({ length: 10 }, (_, i) => cname(i === 0 ? q.name : `c${i}.${h.soaZone}`, `c${i + 1}.${h.soaZone}`));
  return [...links, ...h.answers.map((a) => ({ ...a, name: `c10.${h.soaZone}` }) as Answer)];
}

function structural(v: HostileVariant, q: Query, h: HonestAnswer, p: ReplyParams, tcp: boolean): Buffer | null {
  const honest = h.answers;
  switch (v) {
    case 'tc-loop': return encode(q, { answers: tcp ? honest : [], tc: true });
    case 'rrsig-only': return encode(q, { answers: [rrsig(q.name, q.type, h.soaZone)] });
    case 'dname-at-owner': return encode(q, { answers: [dname(q.name, 'elsewhere.invalid')] });
    case 'other-owner': return encode(q, { answers: honest.map((a) => ({ ...a, name: `other.${h.soaZone}` }) as Answer), authorities: [soa(h.soaZone)] });
    case 'nxdomain-with-answer': return encode(q, { answers: honest, rcode: RCODE.NXDOMAIN, authorities: [soa(h.soaZone)] });
    case 'wrong-id': return encode(q, { answers: honest, id: (q.id + 1 + (p.n % 65_535)) & 0xffff });
    case 'other-question': return encode(q, { answers: honest, name: `other.${h.soaZone}` });
    case 'cname-loop': case 'cname-long': case 'dname-loop': return encode(q, { answers: chainVariant(v, q, h) });
    case 'servfail': return encode(q, { rcode: RCODE.SERVFAIL, ad: false });
    case 'silence': return null;
    default: return byteLevel(v, q, h, p);
  }
}

function byteLevel(v: HostileVariant, q: Query, h: HonestAnswer, p: ReplyParams): Buffer | null {
  const honest = h.answers.length > 0 ? h.answers : [soa(h.soaZone)];
  switch (v) {
    case 'short-rdlength': {
      const full = encode(q, { answers: honest });
      const start = encode(q, { answers: honest.slice(0, -1) }).length;
      const at = rdlengthOffset(full, start);
      const out = Buffer.from(full);
      out.writeUInt16BE(Math.max(0, full.readUInt16BE(at) - 1 - (p.n % 3)), at);
      return out;
    }
    case 'rdata-0': return withLastRdata(q, honest, Buffer.alloc(0));
    case 'truncated-packet': { const b = encode(q, { answers: honest }); return b.subarray(0, p.n % b.length); }
    case 'random-bytes': {
      const b = Buffer.from(p.bytes);
      if (b.length >= 3) { b.writeUInt16BE(q.id, 0); b[2] = b[2]! | 0x80; }
      return b;
    }
    case 'mutated': {
      const b = Buffer.from(encode(q, { answers: honest }));
      for (const [i, x] of p.bytes.entries()) { const at = 12 + ((p.n + i * 7919) % Math.max(1, b.length - 12)); b[at] = b[at]! ^ (x | 1); }
      return b;
    }
    default: return null;
  }
}

/** Bytes to send for `variant` in reply to `q` over UDP or TCP; null = no reply. */
export function hostileReply(variant: AnswerVariant, q: Query, h: HonestAnswer, p: ReplyParams, transport: 'udp' | 'tcp'): Buffer | null {
  switch (variant) {
    case 'honest': return encode(q, { answers: h.answers, authorities: h.answers.length === 0 ? [soa(h.soaZone)] : [] });
    case 'insecure': return encode(q, { answers: h.answers, authorities: h.answers.length === 0 ? [soa(h.soaZone)] : [], ad: false });
    case 'secure-nodata': return encode(q, { authorities: [soa(h.soaZone)] });
    case 'unknown-usage': return encode(q, { answers: tlsaWith(h.answers, (d) => ({ ...d, usage: 4 })) });
    case 'tlsa-rdata-3': return encode(q, { answers: tlsaWith(h.answers, (d) => ({ ...d, certificate: Buffer.alloc(0) })) });
    case 'tlsa-bad-digest': return encode(q, { answers: tlsaWith(h.answers, (d) => ({ ...d, certificate: Buffer.alloc(29 + (p.n % 3), 9) })) });
    default: return structural(variant, q, h, p, transport === 'tcp');
  }
}
