/**
 * One validated response → the next step of a lookup: a final `DnsResult`, or
 * "follow the CNAME chain to this name" when the resolver's answer stopped
 * part-way.
 *
 * Contract (RFC 1034 §3.6.2, RFC 2308, RFC 6604, RFC 7672 §2.2.3):
 * - records are taken only at the current owner name: the query name, then each
 *   CNAME target in turn (answers at other names are ignored);
 * - a chain is secure only when every response that contributed to it was
 *   secure (C1, C11); `secure` means AD set by a trusted resolver (C6);
 * - more than 8 links → failure `cname-limit`; a name seen twice → `cname-loop`;
 * - NXDOMAIN refers to the last name of the chain (RFC 6604); NOERROR without
 *   records is NODATA, unless the chain stopped at a target with no SOA in
 *   the authority section — then the target is queried next;
 * - negative TTL hint = min(SOA TTL, SOA minimum) (RFC 2308 §5).
 */
import type { CnameRecord, DnsResult, RecordByType, RecordType } from '../core/dns-result.ts';
import { toCname, toRecord } from './records.ts';
import { normalizeName, type DnsResponse } from './wire.ts';

export const MAX_CNAME_LINKS = 8;

/** What has been learnt so far in one lookup (mutated as responses arrive). */
export interface ChainState {
  qname: string;
  type: RecordType;
  cnames: CnameRecord[];
  seen: Set<string>;
  secure: boolean;
}

export type Step<T extends RecordType> =
  | { kind: 'done'; result: DnsResult<RecordByType[T]>; negativeTtl?: number }
  | { kind: 'follow'; name: string };

export function newChain(qname: string, type: RecordType): ChainState {
  return { qname, type, cnames: [], seen: new Set([qname]), secure: true };
}

function negativeTtl(r: DnsResponse): number | undefined {
  for (const a of r.authorities) {
    const soa = toRecord(a, 'SOA');
    if (soa) return Math.min(soa.ttl, soa.minimum);
  }
  return undefined;
}

/** Interpret response `r` to the query for `asked`; `secureResponse` = AD from a trusted server. */
export function interpretResponse<T extends RecordType>(
  st: ChainState, r: DnsResponse, asked: string, secureResponse: boolean,
): Step<T> {
  st.secure &&= secureResponse;
  const type = st.type as T;
  let cur = asked;
  for (let guard = 0; guard <= r.answers.length; guard++) {
    const at = r.answers.filter((a) => normalizeName(a.name) === cur);
    const records = at.map((a) => toRecord(a, type)).filter((x): x is RecordByType[T] => x !== undefined);
    if (records.length > 0) {
      const base = { records, qname: st.qname, canonicalName: cur, cnames: [...st.cnames] };
      return { kind: 'done', result: st.secure ? { kind: 'secure', ...base } : { kind: 'insecure', ...base } };
    }
    const link = at.map(toCname).find((c) => c !== undefined);
    if (!link || type === 'CNAME') break;
    st.cnames.push(link);
    if (st.cnames.length > MAX_CNAME_LINKS) return fail(st, 'cname-limit', `more than ${MAX_CNAME_LINKS} CNAME links`);
    if (st.seen.has(link.target)) return fail(st, 'cname-loop', `CNAME loop at ${link.target}`);
    st.seen.add(link.target);
    cur = link.target;
  }
  const denial = { secure: st.secure, qname: st.qname, canonicalName: cur, cnames: [...st.cnames] };
  const ttl = negativeTtl(r);
  const hint = ttl === undefined ? {} : { negativeTtl: ttl };
  if (r.rcode === 'NXDOMAIN') return { kind: 'done', result: { kind: 'nxdomain', ...denial }, ...hint };
  if (cur !== asked && ttl === undefined) return { kind: 'follow', name: cur };
  return { kind: 'done', result: { kind: 'nodata', ...denial }, ...hint };
}

function fail<T extends RecordType>(st: ChainState, reason: 'cname-loop' | 'cname-limit', detail: string): Step<T> {
  const chain = [st.qname, ...st.cnames.map((c) => c.target)].join(' -> ');
  return { kind: 'done', result: { kind: 'failure', reason, qname: st.qname, detail: `${detail}: ${chain}` } };
}
