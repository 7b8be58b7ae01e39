/**
 * DNS wire format for the client: build queries and check answers, on top of
 * dns-packet.
 *
 * Contract:
 * - `normalizeName` gives the one spelling used everywhere: lower case, no
 *   trailing dot, the root as '.'; names are always absolute — no search list,
 *   no default domain is ever appended (checklist C7). Invalid names → undefined.
 * - `encodeQuery` sets RD and AD (RFC 6840 §5.7: ask for the AD bit) and adds an
 *   EDNS0 OPT record with the DO bit and a 1232-byte payload (RFC 6891).
 * - `decodeResponse` never throws: an undecodable packet is `malformed`, and
 *   so is one whose records do not fill exactly their declared lengths, that
 *   has bytes after its last record, or an owner name with a '.' inside a
 *   label (RFC 1035 §3.2.1, §4.1; C1/C4: malformed is a failure, never
 *   guessed at).
 * - `responseMismatch` says why a decoded packet is not the answer to our query
 *   (QR, opcode, id, exactly one question with equal name/type/class IN), or
 *   undefined when it is. Mismatching packets are ignored by the transport
 *   (spoofed or stale answers), never used.
 */
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import type { RecordType } from '../core/dns-result.ts';

export const EDNS_UDP_PAYLOAD = 1232;

export interface Question { name: string; type: RecordType }

/** A decoded response: the fields the client uses. */
export interface DnsResponse {
  id: number;
  qr: boolean;
  opcode: string;
  rcode: string;
  tc: boolean;
  ad: boolean;
  questions: Array<{ name: string; type: string; class: string }>;
  answers: Answer[];
  authorities: Answer[];
}

export type Decoded = { kind: 'ok'; response: DnsResponse } | { kind: 'malformed'; detail: string };

/** Lower case, no trailing dot, root as '.'; undefined when not a valid DNS name. */
export function normalizeName(input: string): string | undefined {
  const n = input.trim().toLowerCase().replace(/\.$/, '');
  if (n === '' || n === '.') return '.';
  if (n.length > 253) return undefined;
  const labels = n.split('.');
  if (labels.some((l) => l.length === 0 || l.length > 63)) return undefined;
  if (/[\s\\]/.test(n)) return undefined;
  return n;
}

export function randomQueryId(): number {
  return randomInt(0, 65536);
}

export function encodeQuery(id: number, q: Question): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ name: q.name, type: q.type, class: 'IN' }],
    additionals: [{
      name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0,
      flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [],
    }],
  });
}

type RecordDecoder = ((buf: Buffer, offset: number) => Answer) & { bytes: number };
/** dns-packet's per-record decoder (exported at run time, absent from its type declarations). */
const decodeRecord = (dnsPacket as unknown as { answer: { decode: RecordDecoder } }).answer.decode;

/**
 * Skips a (possibly compressed) name at `off`; returns the offset after it.
 * Throws when out of bounds, and for a '.' byte inside a label: the string
 * form would split that label in two and read another name. (Other unusual
 * bytes are left to the answer checks: an NSEC next-name such as Cloudflare's
 * `\000.` label lives in RDATA we never read, and must not spoil a denial.)
 */
function skipName(buf: Buffer, off: number): number {
  for (let i = 0; i < 128; i++) {
    const len = buf[off];
    if (len === undefined) throw new Error('name past end of packet');
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) { if (off + 2 > buf.length) throw new Error('pointer past end'); return off + 2; }
    if ((len & 0xc0) !== 0) throw new Error('bad label type');
    if (off + 1 + len > buf.length) throw new Error('label past end of packet');
    if (buf.subarray(off + 1, off + 1 + len).includes(0x2e)) throw new Error("'.' byte inside a label");
    off += 1 + len;
  }
  throw new Error('too many labels');
}

/** Checks one resource record at `off` against its declared RDLENGTH; returns the offset after it. */
function checkRecord(buf: Buffer, off: number, index: number): number {
  const start = off;
  off = skipName(buf, off);
  if (off + 10 > buf.length) throw new Error('record header past end');
  const end = off + 10 + buf.readUInt16BE(off + 8);
  if (end > buf.length) throw new Error('record data past end');
  decodeRecord(buf, start);
  if (start + decodeRecord.bytes !== end) {
    throw new Error(`record ${index}: RDLENGTH ${end - off - 10} does not match its content (${start + decodeRecord.bytes - off - 10} bytes)`);
  }
  return end;
}

/**
 * Walks the packet by the lengths it declares (RFC 1035 §4.1): every section
 * and every RDATA must fit in the buffer, each record's content must fill
 * exactly its RDLENGTH (RFC 1035 §3.2.1, §4.1.3), and nothing may follow the
 * last record. dns-packet alone reads past a short RDATA (a TLSA RDLENGTH 3
 * bytes short read as a 29-byte digest, the next bytes ignored) without
 * complaint: such a packet is malformed, never re-interpreted (C1/C4).
 */
function checkFraming(buf: Buffer): void {
  if (buf.length < 12) throw new Error('shorter than a header');
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let off = 12;
  for (let i = 0; i < counts[0]!; i++) {
    off = skipName(buf, off) + 4;
    if (off > buf.length) throw new Error('question past end');
  }
  const rrs = counts[1]! + counts[2]! + counts[3]!;
  for (let i = 0; i < rrs; i++) off = checkRecord(buf, off, i);
  if (off !== buf.length) throw new Error(`${buf.length - off} bytes after the last record`);
}

export function decodeResponse(buf: Buffer): Decoded {
  try {
    checkFraming(buf);
    const p = dnsPacket.decode(buf) as ReturnType<typeof dnsPacket.decode> & { rcode?: string; opcode?: string };
    if (dnsPacket.decode.bytes !== buf.length) throw new Error('record data does not match its declared length');
    return {
      kind: 'ok',
      response: {
        id: p.id ?? -1,
        qr: p.flag_qr,
        opcode: p.opcode ?? 'QUERY',
        rcode: p.rcode ?? 'NOERROR',
        tc: p.flag_tc,
        ad: p.flag_ad,
        questions: (p.questions ?? []).map((q) => ({ name: q.name, type: q.type, class: q.class ?? 'IN' })),
        answers: (p.answers ?? []).filter((a) => a !== undefined),
        authorities: (p.authorities ?? []).filter((a) => a !== undefined),
      },
    };
  } catch (err) {
    return { kind: 'malformed', detail: `undecodable packet (${err instanceof Error ? err.message : String(err)})` };
  }
}

/** Why `r` is not the answer to query `id`/`q`; undefined when it is. */
export function responseMismatch(r: DnsResponse, id: number, q: Question): string | undefined {
  if (!r.qr) return 'not a response (QR clear)';
  if (r.opcode !== 'QUERY') return `opcode ${r.opcode}`;
  if (r.id !== id) return `id ${r.id} != ${id}`;
  if (r.questions.length !== 1) return `${r.questions.length} questions`;
  const got = r.questions[0]!;
  if (normalizeName(got.name) !== q.name) return `question name ${got.name} != ${q.name}`;
  if (got.type !== q.type) return `question type ${got.type} != ${q.type}`;
  if (got.class !== 'IN') return `question class ${got.class}`;
  return undefined;
}
