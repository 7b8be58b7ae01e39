/**
 * The answer section of one response, checked as a whole: either it is a
 * well-formed answer to the question (a CNAME chain from the name asked, then
 * the records of the type asked at its last name, with their signatures), or
 * the lookup fails. Nothing in it is skipped or guessed at (checklist C1/C4).
 *
 * Contract (`walkAnswer`):
 * - the chain starts at the name asked and follows one CNAME per owner
 *   (RFC 2181 §10.1.1: more than one CNAME at a name is malformed); a CNAME
 *   next to data of the asked type at the same owner is malformed (RFC 1034
 *   §3.6.2); a name seen twice is `cname-loop`, more than MAX_CNAME_LINKS
 *   links (over all responses of the lookup) `cname-limit`;
 * - records of the asked type are taken at the last name of the chain only;
 *   every one of them must parse (records.ts), else the lookup fails;
 * - every other record must belong to that answer: a DNAME is accepted only
 *   when the chain holds the CNAME it synthesizes (RFC 6672 §2.2, §3.1; a
 *   stub resolver does not synthesize, and a DNAME never applies to its own
 *   owner name, §2.3); an RRSIG only when it covers an RRset present at its
 *   owner (RFC 4035 §3.1.1: an answer holding only signatures is not an
 *   answer); a record of any type at a name off the chain, or of any other
 *   type, makes the response malformed (RFC 2181 §5.4.1: data not part of the
 *   answer is not to be trusted); every record must be class IN and owned by
 *   a printable-ASCII name.
 * Pure: mutates only the chain state it is given (CNAME links, seen names).
 */
import type { CnameRecord, RecordByType, RecordType } from '../core/dns-result.ts';
import { toRecord } from './records.ts';
import { normalizeName, type DnsResponse } from './wire.ts';
import type { Answer } from 'dns-packet';

export const MAX_CNAME_LINKS = 8;

/** What has been learnt so far in one lookup (mutated as responses arrive). */
export interface ChainState {
  qname: string;
  type: RecordType;
  cnames: CnameRecord[];
  seen: Set<string>;
  secure: boolean;
}

export type BadAnswer = { kind: 'bad'; reason: 'malformed' | 'cname-loop' | 'cname-limit'; detail: string };
export type Walk<R> = { kind: 'ok'; final: string; records: R[] } | BadAnswer;

interface Rr { owner: string; type: string; a: Answer }

const bad = (reason: BadAnswer['reason'], detail: string): BadAnswer => ({ kind: 'bad', reason, detail });

function ownedRecords(r: DnsResponse): Rr[] | BadAnswer {
  const out: Rr[] = [];
  for (const a of r.answers) {
    const owner = normalizeName(a.name);
    // Owner names of the answer must be printable ASCII: other bytes do not survive the text form unchanged.
    if (owner === undefined || /[^\x21-\x7e]/.test(owner)) return bad('malformed', `answer record with invalid owner name ${JSON.stringify(a.name)}`);
    const cls = 'class' in a ? a.class : 'IN';
    if (cls !== 'IN') return bad('malformed', `answer record of class ${String(cls)} at ${owner}`);
    out.push({ owner, type: a.type, a });
  }
  return out;
}

/** Follows the CNAME chain inside this response from `asked`; returns the last name. */
function followChain(st: ChainState, rrs: Rr[], asked: string, used: Set<Rr>): string | BadAnswer {
  let cur = asked;
  for (;;) {
    const here = rrs.filter((x) => x.owner === cur);
    const data = here.filter((x) => x.type === st.type);
    const cnames = st.type === 'CNAME' ? [] : here.filter((x) => x.type === 'CNAME');
    if (cnames.length > 0 && data.length > 0) return bad('malformed', `CNAME and ${st.type} data at ${cur} (RFC 1034 §3.6.2)`);
    if (cnames.length > 1) return bad('malformed', `${cnames.length} CNAME records at ${cur} (RFC 2181 §10.1.1)`);
    const only = cnames[0];
    if (only === undefined) return cur;
    const link = toRecord(only.a, 'CNAME');
    if (link === undefined) return bad('malformed', `malformed CNAME record at ${cur}`);
    used.add(only);
    st.cnames.push(link);
    if (st.cnames.length > MAX_CNAME_LINKS) return bad('cname-limit', `more than ${MAX_CNAME_LINKS} CNAME links`);
    if (st.seen.has(link.target)) return bad('cname-loop', `CNAME loop at ${link.target}`);
    st.seen.add(link.target);
    cur = link.target;
  }
}

/** The CNAME owner→target that DNAME `owner`→`target` synthesizes for `name` (RFC 6672 §2.2); undefined when it does not apply. */
export function synthesize(name: string, owner: string, target: string): string | undefined {
  if (owner === '.' ? name === '.' : !name.endsWith(`.${owner}`)) return undefined; // §2.3: never the owner itself
  const prefix = owner === '.' ? name : name.slice(0, name.length - owner.length - 1);
  return target === '.' ? prefix : `${prefix}.${target}`;
}

function dnameUsed(x: Rr, chainLinks: Rr[]): boolean {
  const target = 'data' in x.a && typeof x.a.data === 'string' ? normalizeName(x.a.data) : undefined;
  if (target === undefined) return false;
  return chainLinks.some((c) => {
    const link = toRecord(c.a, 'CNAME');
    return link !== undefined && synthesize(c.owner, x.owner, target) === link.target;
  });
}

function covered(x: Rr): string | undefined {
  const d = 'data' in x.a ? (x.a.data as { typeCovered?: unknown } | undefined) : undefined;
  return typeof d?.typeCovered === 'string' ? d.typeCovered : undefined;
}

/** Every record of the section is part of the answer, or the response is malformed. */
function checkMembership(rrs: Rr[], used: Set<Rr>, final: string, type: RecordType): BadAnswer | undefined {
  const links = [...used];
  for (const x of rrs) {
    if (x.type === 'RRSIG' || used.has(x)) continue;
    if (x.type === type && x.owner === final) { used.add(x); continue; }
    if (x.type === 'DNAME' && dnameUsed(x, links)) { used.add(x); continue; }
    const why = x.type === 'DNAME' ? ' without the CNAME it synthesizes (RFC 6672 §3.1)' : ' not on the answer chain';
    return bad('malformed', `${x.type} record at ${x.owner}${why}`);
  }
  const present = new Set([...used].map((x) => `${x.owner} ${x.type}`));
  for (const x of rrs) {
    if (x.type !== 'RRSIG') continue;
    const t = covered(x);
    if (t === undefined || !present.has(`${x.owner} ${t}`)) {
      return bad('malformed', `RRSIG at ${x.owner} covering ${t ?? '?'} without that RRset (RFC 4035 §3.1.1)`);
    }
  }
  return undefined;
}

/** Checks the answer section of `r` (the response to `asked`) and extends the chain state. */
export function walkAnswer<T extends RecordType>(st: ChainState, r: DnsResponse, asked: string): Walk<RecordByType[T]> {
  const rrs = ownedRecords(r);
  if (!Array.isArray(rrs)) return rrs;
  const used = new Set<Rr>();
  const final = followChain(st, rrs, asked, used);
  if (typeof final !== 'string') return final;
  const records: Array<RecordByType[T]> = [];
  for (const x of rrs.filter((y) => y.owner === final && y.type === st.type)) {
    const rec = toRecord(x.a, st.type as T);
    if (rec === undefined) return bad('malformed', `malformed ${st.type} record at ${final}`);
    records.push(rec);
  }
  const stray = checkMembership(rrs, used, final, st.type);
  return stray ?? { kind: 'ok', final, records };
}
