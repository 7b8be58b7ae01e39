/**
 * RFC 2136 dynamic updates of a TLSA RRset: as an `nsupdate` script, or as a
 * DNS UPDATE message signed with TSIG (tsig.ts) and sent to the primary.
 *
 * Contract:
 * - An update is a list of `add` (class IN, with TTL) and `delete` (one RR:
 *   class NONE, TTL 0, RFC 2136 §2.5.4) operations on TLSA records of one
 *   owner, in one zone. RRsets are never deleted as a whole, so records not
 *   named (another key, a 2 1 1 issuer record) stay.
 * - `renderNsupdate` prints the same operations in nsupdate syntax
 *   (`server`, `zone`, `update add|delete`, `send`).
 * - `encodeUpdate` builds the message with dns-packet's record encoder;
 *   `sendUpdate` sends it over TCP (RFC 7766 framing) to the primary,
 *   bounded by `timeoutMs`, signs it and checks the response's TSIG. The
 *   outcome is a value: `ok`, or `refused` with the rcode / TSIG error and
 *   the reason; nothing throws for network or server outcomes.
 */
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { dnsName, signMessage, TSIG_ERRORS, verifyResponse, type TsigKey } from './tsig.ts';

export interface TlsaRr { usage: number; selector: number; matchingType: number; data: Uint8Array }
export interface UpdateOp { op: 'add' | 'delete'; record: TlsaRr }
export interface TlsaUpdate { zone: string; owner: string; ttl: number; ops: UpdateOp[] }

const CLASS_NONE = 254;
/** dns-packet's single-record encoder (exported at run time, missing from its type declarations). */
const answerCodec = (dnsPacket as unknown as { answer: { encode(a: dnsPacket.Answer): Buffer } }).answer;
const RCODES: Readonly<Record<number, string>> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE' };

const abs = (n: string): string => `${n.replace(/\.$/, '')}.`;
const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');

export function renderNsupdate(u: TlsaUpdate, server?: { host: string; port: number }, keyName?: string): string {
  const lines: string[] = [];
  if (server) lines.push(`server ${server.host} ${server.port}`);
  if (keyName) lines.push(`; sign with: nsupdate -k KEYFILE (key ${keyName}, hmac-sha256)`);
  lines.push(`zone ${abs(u.zone)}`);
  for (const o of u.ops) {
    const rr = `${o.record.usage} ${o.record.selector} ${o.record.matchingType} ${hex(o.record.data)}`;
    lines.push(o.op === 'add' ? `update add ${abs(u.owner)} ${u.ttl} IN TLSA ${rr}` : `update delete ${abs(u.owner)} IN TLSA ${rr}`);
  }
  lines.push('send');
  return `${lines.join('\n')}\n`;
}

function encodeRr(u: TlsaUpdate, o: UpdateOp): Buffer {
  const rr = Buffer.from(answerCodec.encode({
    name: u.owner.replace(/\.$/, ''), type: 'TLSA', class: 'IN', ttl: o.op === 'add' ? u.ttl : 0,
    data: { usage: o.record.usage, selector: o.record.selector, matchingType: o.record.matchingType, certificate: Buffer.from(o.record.data) },
  } as dnsPacket.Answer));
  if (o.op === 'delete') rr.writeUInt16BE(CLASS_NONE, dnsName.encode(u.owner.replace(/\.$/, '')).length + 2);
  return rr;
}

/** The UPDATE message (RFC 2136 §2): header, zone section (SOA IN), no prerequisites, the updates. */
export function encodeUpdate(u: TlsaUpdate, id: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(5 << 11, 2); // opcode UPDATE
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(u.ops.length, 8);
  const zone = Buffer.concat([dnsName.encode(u.zone.replace(/\.$/, '')), Buffer.from([0, 6, 0, 1])]);
  return Buffer.concat([header, zone, ...u.ops.map((o) => encodeRr(u, o))]);
}

export type UpdateOutcome = { kind: 'ok' } | { kind: 'refused'; rcode: string; reason: string };

function exchangeTcp(server: { host: string; port: number }, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer from ${server.host}:${server.port} within ${timeoutMs} ms`)); }, timeoutMs);
    const done = (err: Error | null, out?: Buffer): void => { clearTimeout(timer); s.destroy(); if (err) reject(err); else resolve(out as Buffer); };
    s.on('connect', () => { const len = Buffer.alloc(2); len.writeUInt16BE(msg.length); s.write(Buffer.concat([len, msg])); });
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(null, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    s.on('error', (e) => done(e));
    s.on('close', () => done(new Error('connection closed before an answer')));
  });
}

/** Sign with `key`, send to the primary, check the answer (see the module contract). */
export async function sendUpdate(u: TlsaUpdate, server: { host: string; port: number }, key: TsigKey, timeoutMs: number, now: () => Date = () => new Date()): Promise<UpdateOutcome> {
  const id = randomInt(0, 65536);
  const { signed, mac } = signMessage(encodeUpdate(u, id), key, now());
  let resp: Buffer;
  try {
    resp = await exchangeTcp(server, signed, timeoutMs);
  } catch (err) {
    return { kind: 'refused', rcode: 'NETWORK', reason: (err as Error).message };
  }
  if (resp.length < 12 || resp.readUInt16BE(0) !== id || (resp.readUInt16BE(2) & 0x8000) === 0) return { kind: 'refused', rcode: 'FORMERR', reason: 'the answer does not match the update' };
  const rcode = RCODES[resp.readUInt16BE(2) & 0xf] ?? String(resp.readUInt16BE(2) & 0xf);
  const tsig = verifyResponse(resp, key, mac, now());
  if (rcode !== 'NOERROR') {
    const why = tsig.kind === 'bad' ? tsig.reason : tsig.kind === 'unsigned' && rcode === 'NOTAUTH' ? `the server does not accept key ${key.name} (${Object.values(TSIG_ERRORS).join('/')})` : `update refused`;
    return { kind: 'refused', rcode, reason: `${rcode}: ${why}` };
  }
  if (tsig.kind !== 'ok') return { kind: 'refused', rcode, reason: `NOERROR but the answer's TSIG ${tsig.kind === 'bad' ? `is bad: ${tsig.reason}` : 'is missing'}; not trusted` };
  return { kind: 'ok' };
}
