/**
 * dns-packet answers → the typed records of core/dns-result.ts.
 *
 * Contract: names come back lower case without trailing dot (root as '.');
 * TTLs are kept; TLSA `data` is a copy of the certificate association data.
 * An answer whose data does not have the expected shape gives undefined —
 * never an exception. The caller (interpret.ts) fails the whole lookup on it:
 * a malformed record is a lookup error, never skipped (C1/C4).
 *
 * TLSA (RFC 6698 §2.1): the certificate association data must not be empty
 * (3-byte RDATA), and a SHA2-256(1)/SHA2-512(2) digest must be 32/64 bytes. A
 * record whose length contradicts its own matching type is malformed (RFC 7671
 * §9 calls it so); the relay fails the lookup (tempfail, C4) where Postfix
 * would discard the record, because a discarded record can turn a DANE host
 * into an unauthenticated one (C15 `dane:encrypt`). Unknown usages, selectors
 * and matching types are NOT malformed: they are unusable (core/tlsa.ts, C27).
 */
import net from 'node:net';
import type { Answer } from 'dns-packet';
import type { CnameRecord, RecordByType, RecordType } from '../core/dns-result.ts';
import { normalizeName } from './wire.ts';

type AnyRecord = RecordByType[RecordType];

const nameOf = (v: unknown): string | undefined => (typeof v === 'string' ? normalizeName(v) : undefined);
const uint = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

function txtOf(data: unknown): string | undefined {
  const parts = Array.isArray(data) ? data : [data];
  if (!parts.every((p) => typeof p === 'string' || Buffer.isBuffer(p))) return undefined;
  return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('');
}

/** SHA2-256 and SHA2-512 digests have a fixed length (RFC 6698 §2.1.3). */
const DIGEST_BYTES: Readonly<Record<number, number>> = { 1: 32, 2: 64 };

/** False when TLSA association data of `length` bytes cannot be what `matchingType` says. */
export function tlsaLengthConsistent(matchingType: number, length: number): boolean {
  if (length === 0) return false;
  const want = DIGEST_BYTES[matchingType];
  return want === undefined || want === length;
}

function dataOf(type: RecordType, d: unknown): Record<string, unknown> | undefined {
  const o = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
  switch (type) {
    case 'A': return typeof d === 'string' && net.isIPv4(d) ? { address: d } : undefined;
    case 'AAAA': return typeof d === 'string' && net.isIPv6(d) ? { address: d } : undefined;
    case 'CNAME': case 'NS': { const target = nameOf(d); return target ? { target } : undefined; }
    case 'MX': {
      const exchange = nameOf(o.exchange); const preference = uint(o.preference);
      return exchange !== undefined && preference !== undefined ? { preference, exchange } : undefined;
    }
    case 'TLSA': {
      const usage = uint(o.usage); const selector = uint(o.selector); const matchingType = uint(o.matchingType);
      if (usage === undefined || selector === undefined || matchingType === undefined || !Buffer.isBuffer(o.certificate)) return undefined;
      if (!tlsaLengthConsistent(matchingType, o.certificate.length)) return undefined;
      return { usage, selector, matchingType, data: new Uint8Array(o.certificate) };
    }
    case 'SOA': {
      const mname = nameOf(o.mname); const minimum = uint(o.minimum);
      return mname !== undefined && minimum !== undefined ? { mname, minimum } : undefined;
    }
    case 'TXT': { const text = txtOf(d); return text !== undefined ? { text } : undefined; }
  }
}

/** The typed record for `a` if it is of type `type`; undefined otherwise. */
export function toRecord<T extends RecordType>(a: Answer, type: T): RecordByType[T] | undefined {
  if (a.type !== type || !('data' in a)) return undefined;
  const name = normalizeName(a.name);
  const fields = dataOf(type, a.data);
  if (name === undefined || fields === undefined) return undefined;
  return { type, name, ttl: a.ttl ?? 0, ...fields } as AnyRecord as RecordByType[T];
}

export function toCname(a: Answer): CnameRecord | undefined {
  return toRecord(a, 'CNAME');
}
