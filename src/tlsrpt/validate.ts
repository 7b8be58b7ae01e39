/**
 * Structural check of a TLSRPT aggregate report against RFC 8460 §4.4
 * (the JSON structure of §4.3/§4.4 and the example in Appendix B). Used
 * before a report is sent and by the tests and the lab collector.
 *
 * Contract: `validateReport(value)` returns the list of problems (empty =
 * valid). Checked: the five top-level fields and their types; RFC 3339
 * `start-datetime` < `end-datetime`; each policy's `policy-type`
 * (tlsa | sts | no-policy-found), `policy-domain`, optional `policy-string`
 * and `mx-host` string arrays; summary counts are non-negative integers;
 * each failure detail has a known `result-type` (§4.3), a positive integer
 * `failed-session-count`, and string-typed optional fields; the detail
 * counts add up to no more than `total-failure-session-count`. Pure.
 */
import { TLSRPT_RESULT_TYPES } from './result-types.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DETAIL_STRINGS = ['sending-mta-ip', 'receiving-mx-hostname', 'receiving-mx-helo', 'receiving-ip', 'additional-information', 'failure-reason-code'];

function checkDetail(d: unknown, where: string, out: string[]): number {
  if (!isObj(d)) { out.push(`${where}: not an object`); return 0; }
  if (!(TLSRPT_RESULT_TYPES as readonly string[]).includes(String(d['result-type']))) out.push(`${where}: unknown result-type ${JSON.stringify(d['result-type'])}`);
  const n = d['failed-session-count'];
  if (!isCount(n) || n === 0) out.push(`${where}: failed-session-count must be a positive integer`);
  for (const k of DETAIL_STRINGS) if (k in d && typeof d[k] !== 'string') out.push(`${where}: ${k} must be a string`);
  return isCount(n) ? n : 0;
}

function checkPolicy(p: unknown, where: string, out: string[]): void {
  if (!isObj(p) || !isObj(p.policy)) { out.push(`${where}: policy object missing`); return; }
  const pol = p.policy;
  if (!['tlsa', 'sts', 'no-policy-found'].includes(String(pol['policy-type']))) out.push(`${where}: policy-type must be tlsa, sts or no-policy-found`);
  if (typeof pol['policy-domain'] !== 'string' || pol['policy-domain'] === '') out.push(`${where}: policy-domain missing`);
  for (const k of ['policy-string', 'mx-host']) if (k in pol && !isStrings(pol[k])) out.push(`${where}: ${k} must be an array of strings`);
  const s = p.summary;
  if (!isObj(s) || !isCount(s['total-successful-session-count']) || !isCount(s['total-failure-session-count'])) {
    out.push(`${where}: summary needs non-negative integer total-successful-session-count and total-failure-session-count`);
  }
  const details = p['failure-details'] ?? [];
  if (!Array.isArray(details)) { out.push(`${where}: failure-details must be an array`); return; }
  const sum = details.reduce<number>((acc, d, i) => acc + checkDetail(d, `${where}.failure-details[${i}]`, out), 0);
  if (isObj(s) && isCount(s['total-failure-session-count']) && sum > s['total-failure-session-count']) {
    out.push(`${where}: failure-details count ${sum} exceeds total-failure-session-count`);
  }
}

export function validateReport(value: unknown): string[] {
  const out: string[] = [];
  if (!isObj(value)) return ['report is not a JSON object'];
  for (const k of ['organization-name', 'contact-info', 'report-id']) if (typeof value[k] !== 'string' || value[k] === '') out.push(`${k} must be a non-empty string`);
  const range = value['date-range'];
  if (!isObj(range)) out.push('date-range missing');
  else {
    const start = String(range['start-datetime']);
    const end = String(range['end-datetime']);
    if (!RFC3339.test(start) || !RFC3339.test(end)) out.push('date-range datetimes must be RFC 3339');
    else if (!(Date.parse(start) < Date.parse(end))) out.push('start-datetime must be before end-datetime');
  }
  if (!Array.isArray(value.policies)) out.push('policies must be an array');
  else value.policies.forEach((p, i) => checkPolicy(p, `policies[${i}]`, out));
  return out;
}
