/**
 * One validated response → the next step of a lookup: a final `DnsResult`, or
 * "follow the CNAME chain to this name" when the resolver's answer stopped
 * part-way.
 *
 * The one rule (checklist C1/C4): anything short of a well-formed answer or a
 * well-formed denial is a `failure`, and a failure defers. It holds for every
 * type the relay asks (MX, A/AAAA, TLSA); the answer section is checked as a
 * whole by answer-rules.ts.
 *
 * Contract (RFC 1034 §3.6.2, RFC 1035 §4.1.1, RFC 2308, RFC 6604, RFC 6672,
 * RFC 7672 §2.2.3):
 * - TC set on the answer that reached us (UDP answers with TC are re-asked
 *   over TCP by the transport, so this is TCP truncating too) → failure: a
 *   truncated answer is neither an answer nor a denial;
 * - records are taken only at the last name of the CNAME chain; a record of
 *   the type at another name, a DNAME without its synthesized CNAME, an RRSIG
 *   with nothing it covers, an unparseable record → failure `malformed`;
 * - a chain is secure only when every response that contributed to it was
 *   secure (C1, C11); `secure` means AD set by a trusted resolver (C6);
 * - more than 8 links → failure `cname-limit`; a name seen twice → `cname-loop`;
 * - NXDOMAIN refers to the last name of the chain (RFC 6604 §3): its answer
 *   section may hold the chain that leads there, never records of the type
 *   asked — such a response contradicts itself and is a failure (it is never
 *   used as a positive answer, nor as a denial);
 * - NOERROR without records is NODATA, unless the chain stopped at a target
 *   with no SOA in the authority section — then the target is queried next;
 *   an SOA in the authority section that does not parse → failure;
 * - negative TTL hint = min(SOA TTL, SOA minimum) (RFC 2308 §5).
 */
import type { DnsResult, RecordByType, RecordType } from '../core/dns-result.ts';
import { walkAnswer, type ChainState } from './answer-rules.ts';
import { toRecord } from './records.ts';
import type { DnsResponse } from './wire.ts';

export { MAX_CNAME_LINKS, type ChainState } from './answer-rules.ts';

export type Step<T extends RecordType> =
  | { kind: 'done'; result: DnsResult<RecordByType[T]>; negativeTtl?: number }
  | { kind: 'follow'; name: string };

export function newChain(qname: string, type: RecordType): ChainState {
  return { qname, type, cnames: [], seen: new Set([qname]), secure: true };
}

/** min(SOA TTL, SOA minimum) of the first SOA in the authority section; 'bad' when an SOA does not parse. */
function negativeTtl(r: DnsResponse): number | undefined | 'bad' {
  const soas = r.authorities.filter((a) => a.type === 'SOA');
  const parsed = soas.map((a) => toRecord(a, 'SOA'));
  if (parsed.some((s) => s === undefined)) return 'bad';
  const soa = parsed[0];
  return soa === undefined ? undefined : Math.min(soa.ttl, soa.minimum);
}

/** Interpret response `r` to the query for `asked`; `secureResponse` = AD from a trusted server. */
export function interpretResponse<T extends RecordType>(
  st: ChainState, r: DnsResponse, asked: string, secureResponse: boolean,
): Step<T> {
  st.secure &&= secureResponse;
  // C1/C4, RFC 1035 §4.1.1: a truncated answer (TC=1 again after the TCP retry) is not an answer.
  if (r.tc) return fail(st, 'malformed', 'truncated answer (TC=1) over TCP');
  const walk = walkAnswer<T>(st, r, asked);
  if (walk.kind === 'bad') return fail(st, walk.reason, walk.detail);
  const cur = walk.final;
  if (walk.records.length > 0) {
    // RFC 6604 §3: the rcode describes the last name of the chain; NXDOMAIN next to its records is a contradiction (C1).
    if (r.rcode === 'NXDOMAIN') return fail(st, 'malformed', `NXDOMAIN carrying ${st.type} records for ${cur}`);
    const base = { records: walk.records, qname: st.qname, canonicalName: cur, cnames: [...st.cnames] };
    return { kind: 'done', result: st.secure ? { kind: 'secure', ...base } : { kind: 'insecure', ...base } };
  }
  const ttl = negativeTtl(r);
  if (ttl === 'bad') return fail(st, 'malformed', 'malformed SOA record in the authority section');
  const denial = { secure: st.secure, qname: st.qname, canonicalName: cur, cnames: [...st.cnames] };
  const hint = ttl === undefined ? {} : { negativeTtl: ttl };
  if (r.rcode === 'NXDOMAIN') return { kind: 'done', result: { kind: 'nxdomain', ...denial }, ...hint };
  if (cur !== asked && ttl === undefined) return { kind: 'follow', name: cur };
  return { kind: 'done', result: { kind: 'nodata', ...denial }, ...hint };
}

function fail<T extends RecordType>(st: ChainState, reason: 'malformed' | 'cname-loop' | 'cname-limit', detail: string): Step<T> {
  const chain = [st.qname, ...st.cnames.map((c) => c.target)].join(' -> ');
  return { kind: 'done', result: { kind: 'failure', reason, qname: st.qname, detail: `${detail}: ${chain}` } };
}
