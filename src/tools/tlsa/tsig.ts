/**
 * TSIG (RFC 8945) with HMAC-SHA256 for `tlsa rollover --nsupdate` updates:
 * sign a request, check the signed response, read a BIND key file.
 *
 * Contract:
 * - `signMessage(msg, key, now)` appends a TSIG RR to a complete DNS message
 *   (additional count + 1). The MAC covers the message as it was, then the
 *   TSIG variables (§4.3.3): key name and algorithm name in canonical wire
 *   form, class ANY, TTL 0, time signed (48 bit), fudge 300, error 0, no
 *   other data. Returns the signed message and the request MAC.
 * - `verifyResponse(resp, key, requestMac)` checks a response's TSIG
 *   (§5.3, §4.3.1): it must be the last record, same key and algorithm, the
 *   MAC over request MAC + response without its TSIG (original id, count - 1)
 *   + variables must equal (timingSafeEqual), time within fudge. Returns
 *   `ok`, `unsigned` (a server that refused the key answers without a MAC,
 *   with the TSIG error in the rcode), or `bad` with the reason.
 * - `parseKeyFile` reads `key "NAME" { algorithm hmac-sha256; secret "B64"; };`
 *   (tsig-keygen / ddns-confgen output); `parseKeySpec` reads
 *   `[hmac-sha256:]NAME:B64` (nsupdate -y). Other algorithms are refused.
 * node:crypto for the HMAC; dns-packet for names.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import dnsPacket from 'dns-packet';

/** dns-packet's name codec (exported at run time, missing from its type declarations). */
export const dnsName = (dnsPacket as unknown as { name: { encode(n: string): Buffer; decode(b: Buffer, off: number): string } }).name;

export interface TsigKey { name: string; algorithm: 'hmac-sha256'; secret: Buffer }

const TSIG_TYPE = 250;
const CLASS_ANY = 255;
const FUDGE = 300;
export const TSIG_ERRORS: Readonly<Record<number, string>> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

function wireName(name: string): Buffer {
  const n = name.toLowerCase().replace(/\.$/, '');
  return dnsName.encode(n === '' ? '.' : n);
}

function u48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(Math.floor(seconds / 2 ** 32), 0);
  b.writeUInt32BE(seconds % 2 ** 32, 2);
  return b;
}

function u16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }

/** TSIG variables (RFC 8945 §4.3.3), without the leading MAC parts. */
function variables(key: TsigKey, time: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([wireName(key.name), u16(CLASS_ANY), Buffer.alloc(4), wireName(key.algorithm), u48(time), u16(FUDGE), u16(error), u16(other.length), other]);
}

export function signMessage(msg: Buffer, key: TsigKey, now: Date): { signed: Buffer; mac: Buffer } {
  const time = Math.floor(now.getTime() / 1000);
  const mac = createHmac('sha256', key.secret).update(msg).update(variables(key, time, 0, Buffer.alloc(0))).digest();
  const rdata = Buffer.concat([wireName(key.algorithm), u48(time), u16(FUDGE), u16(mac.length), mac, msg.subarray(0, 2), u16(0), u16(0)]);
  const rr = Buffer.concat([wireName(key.name), u16(TSIG_TYPE), u16(CLASS_ANY), Buffer.alloc(4), u16(rdata.length), rdata]);
  const signed = Buffer.concat([msg, rr]);
  signed.writeUInt16BE(msg.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

/** Offset of a (possibly compressed) name's end. Throws past the end. */
function skipName(buf: Buffer, off: number): number {
  for (let i = 0; i < 128; i++) {
    const len = buf[off];
    if (len === undefined) throw new Error('name past end');
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += 1 + len;
  }
  throw new Error('too many labels');
}

/** Start offset of the last resource record (the TSIG's place), walking the sections. */
function lastRecordStart(buf: Buffer): number {
  let off = 12;
  for (let i = 0; i < buf.readUInt16BE(4); i++) off = skipName(buf, off) + 4;
  const rrs = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  let last = -1;
  for (let i = 0; i < rrs; i++) {
    last = off;
    off = skipName(buf, off);
    if (off + 10 > buf.length) throw new Error('record past end');
    off += 10 + buf.readUInt16BE(off + 8);
  }
  if (off > buf.length) throw new Error('record data past end');
  return last;
}

export type TsigCheck = { kind: 'ok' } | { kind: 'unsigned' } | { kind: 'bad'; reason: string };

export function verifyResponse(resp: Buffer, key: TsigKey, requestMac: Buffer, now: Date): TsigCheck {
  try {
    if (resp.length < 12 || resp.readUInt16BE(10) === 0) return { kind: 'unsigned' };
    const start = lastRecordStart(resp);
    const nameEnd = skipName(resp, start);
    if (resp.readUInt16BE(nameEnd) !== TSIG_TYPE) return { kind: 'unsigned' };
    const ownerWire = wireName(dnsName.decode(resp, start));
    if (!ownerWire.equals(wireName(key.name))) return { kind: 'bad', reason: 'response signed with another key' };
    let p = nameEnd + 10;
    const alg = dnsName.decode(resp, p);
    if (alg.toLowerCase().replace(/\.$/, '') !== key.algorithm) return { kind: 'bad', reason: `response algorithm ${alg}` };
    p = skipName(resp, p);
    const time = resp.readUInt16BE(p) * 2 ** 32 + resp.readUInt32BE(p + 2);
    const fudge = resp.readUInt16BE(p + 6);
    const macLen = resp.readUInt16BE(p + 8);
    const mac = resp.subarray(p + 10, p + 10 + macLen);
    p += 10 + macLen;
    const originalId = resp.readUInt16BE(p);
    const error = resp.readUInt16BE(p + 2);
    const other = resp.subarray(p + 6, p + 6 + resp.readUInt16BE(p + 4));
    if (error !== 0) return { kind: 'bad', reason: `TSIG error ${TSIG_ERRORS[error] ?? error}` };
    const body = Buffer.from(resp.subarray(0, start));
    body.writeUInt16BE(originalId, 0);
    body.writeUInt16BE(resp.readUInt16BE(10) - 1, 10);
    const want = createHmac('sha256', key.secret).update(u16(requestMac.length)).update(requestMac).update(body).update(variables(key, time, error, other)).digest();
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return { kind: 'bad', reason: 'response MAC does not verify' };
    if (Math.abs(now.getTime() / 1000 - time) > fudge) return { kind: 'bad', reason: 'response time outside the fudge (BADTIME)' };
    return { kind: 'ok' };
  } catch (err) {
    return { kind: 'bad', reason: `malformed TSIG: ${(err as Error).message}` };
  }
}

function key(name: string, algorithm: string, secret: string): TsigKey {
  const alg = algorithm.toLowerCase().replace(/\.$/, '');
  if (alg !== 'hmac-sha256') throw new Error(`TSIG algorithm ${algorithm} is not supported (use hmac-sha256)`);
  const bytes = Buffer.from(secret, 'base64');
  if (bytes.length < 16) throw new Error('TSIG secret is missing or shorter than 16 bytes');
  return { name: name.toLowerCase().replace(/\.$/, ''), algorithm: 'hmac-sha256', secret: bytes };
}

export function parseKeyFile(text: string): TsigKey {
  const m = /key\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/.exec(text);
  if (!m) throw new Error('no key "NAME" { … }; block found');
  const body = m[2] ?? '';
  const alg = /algorithm\s+"?([\w.-]+)"?\s*;/.exec(body)?.[1];
  const secret = /secret\s+"([^"]+)"\s*;/.exec(body)?.[1];
  if (!alg || !secret) throw new Error('key block needs algorithm and secret');
  return key(m[1] ?? '', alg, secret);
}

export function parseKeySpec(spec: string): TsigKey {
  const parts = spec.split(':');
  if (parts.length === 2) return key(parts[0] ?? '', 'hmac-sha256', parts[1] ?? '');
  if (parts.length === 3) return key(parts[1] ?? '', parts[0] ?? '', parts[2] ?? '');
  throw new Error('expected [hmac-sha256:]NAME:BASE64SECRET');
}
