/**
 * dns-packet answers → the typed records of core/dns-result.ts.
 *
 * Contract: names come back lower case without trailing dot (root as '.');
 * TTLs are kept; TLSA `data` is a copy of the certificate association data.
 * An answer whose data does not have the expected shape gives undefined —
 * never an exception. The caller (interpret.ts) fails the whole lookup on it:
 * a malformed record is a lookup error, never skipped (C1/C4).
 *
 * TLSA (RFC 6698 §2.1): a record that fills its RDATA exactly is well-formed
 * whatever its association data says; empty data (3-byte RDATA), a digest
 * whose length does not suit its matching type, unknown usages, selectors
 * and matching types are not malformed but UNUSABLE, decided once in
 * core/tlsa.ts (C13, C27), as Postfix discards them: a secure RRset of only
 * such records still makes TLS mandatory (C15). What a forged packet could
 * abuse — a length field that does not match the bytes — is a malformed
 * packet and fails the lookup in wire.ts (C1/C4).
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
