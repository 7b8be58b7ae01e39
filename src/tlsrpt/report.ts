/**
 * The TLSRPT aggregate report for one policy domain and one UTC day, built
 * from the stored attempts by a pure function (RFC 8460 §4, §4.4), and the
 * report file name (§5.3).
 *
 * Contract:
 * - `buildReport(policyDomain, attempts, meta)`: only attempts for that
 *   domain inside `meta.range` count; they are grouped into one `policies[]`
 *   entry per (policy-type, policy-string, mx-host); each has a `summary`
 *   (total successful / failed session counts) and `failure-details` grouped
 *   by (result-type, sending-mta-ip, receiving-mx-hostname, receiving-ip,
 *   receiving-mx-helo, failure-reason-code) with `failed-session-count`;
 *   `policy-string` and `mx-host` are left out when empty (no-policy-found).
 *   Policies are ordered by type and string, details by count then name, so
 *   the same input always gives the same JSON.
 * - `dayRange('YYYY-MM-DD')`: 00:00:00Z to 23:59:59Z of that day (§4.1).
 * - `reportFileName(...)`: `submitter!policy-domain!begin!end!unique-id.json[.gz]`
 *   with epoch seconds (§5.3).
 */
import type { TlsrptAttempt, TlsrptResultType } from './result-types.ts';

export interface ReportRange { start: Date; end: Date }

export interface ReportMeta {
  organizationName: string;
  contactInfo: string;
  reportId: string;
  range: ReportRange;
}

export interface FailureDetail {
  'result-type': TlsrptResultType;
  'sending-mta-ip'?: string;
  'receiving-mx-hostname': string;
  'receiving-mx-helo'?: string;
  'receiving-ip'?: string;
  'failed-session-count': number;
  'failure-reason-code'?: string;
}

export interface PolicyResult {
  policy: {
    'policy-type': 'tlsa' | 'sts' | 'no-policy-found';
    'policy-string'?: string[];
    'policy-domain': string;
    'mx-host'?: string[];
  };
  summary: { 'total-successful-session-count': number; 'total-failure-session-count': number };
  'failure-details': FailureDetail[];
}

export interface TlsrptReport {
  'organization-name': string;
  'date-range': { 'start-datetime': string; 'end-datetime': string };
  'contact-info': string;
  'report-id': string;
  policies: PolicyResult[];
}

export function dayRange(day: string): ReportRange {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new Error(`invalid day "${day}" (YYYY-MM-DD)`);
  return { start: new Date(`${day}T00:00:00Z`), end: new Date(`${day}T23:59:59Z`) };
}

/** RFC 3339 without milliseconds, UTC. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function detailKey(a: TlsrptAttempt, resultType: string, code: string | undefined): string {
  return JSON.stringify([resultType, a.sendingMtaIp, a.receivingMxHostname, a.receivingIp, a.receivingMxHelo, code]);
}

function detailOf(a: TlsrptAttempt, resultType: TlsrptResultType, code: string | undefined): FailureDetail {
  const d: FailureDetail = { 'result-type': resultType, 'receiving-mx-hostname': a.receivingMxHostname, 'failed-session-count': 0 };
  if (a.sendingMtaIp) d['sending-mta-ip'] = a.sendingMtaIp;
  if (a.receivingIp) d['receiving-ip'] = a.receivingIp;
  if (a.receivingMxHelo) d['receiving-mx-helo'] = a.receivingMxHelo;
  if (code) d['failure-reason-code'] = code;
  return d;
}

interface Group { result: PolicyResult; details: Map<string, FailureDetail> }

function newGroup(a: TlsrptAttempt): Group {
  const policy: PolicyResult['policy'] = { 'policy-type': a.policyType, 'policy-domain': a.policyDomain };
  if (a.policyStrings.length > 0) policy['policy-string'] = [...a.policyStrings];
  if (a.mxHost.length > 0) policy['mx-host'] = [...a.mxHost];
  return { result: { policy, summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 0 }, 'failure-details': [] }, details: new Map() };
}

function add(g: Group, a: TlsrptAttempt): void {
  if (a.result.kind === 'success') { g.result.summary['total-successful-session-count']++; return; }
  g.result.summary['total-failure-session-count']++;
  const key = detailKey(a, a.result.resultType, a.result.reasonCode);
  let d = g.details.get(key);
  if (!d) { d = detailOf(a, a.result.resultType, a.result.reasonCode); g.details.set(key, d); }
  d['failed-session-count']++;
}

export function buildReport(policyDomain: string, attempts: readonly TlsrptAttempt[], meta: ReportMeta): TlsrptReport {
  const groups = new Map<string, Group>();
  const from = meta.range.start.getTime();
  const to = meta.range.end.getTime() + 999;
  for (const a of attempts) {
    if (a.policyDomain !== policyDomain || a.at < from || a.at > to) continue;
    const key = JSON.stringify([a.policyType, a.policyStrings, a.mxHost]);
    let g = groups.get(key);
    if (!g) { g = newGroup(a); groups.set(key, g); }
    add(g, a);
  }
  const policies = [...groups.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, g]) => {
    g.result['failure-details'] = [...g.details.values()].sort((p, q) =>
      q['failed-session-count'] - p['failed-session-count'] || p['receiving-mx-hostname'].localeCompare(q['receiving-mx-hostname']) || p['result-type'].localeCompare(q['result-type']));
    return g.result;
  });
  return {
    'organization-name': meta.organizationName,
    'date-range': { 'start-datetime': rfc3339(meta.range.start), 'end-datetime': rfc3339(meta.range.end) },
    'contact-info': meta.contactInfo,
    'report-id': meta.reportId,
    policies,
  };
}

/** §5.3: `sender!policy-domain!begin!end!unique-id.json.gz` (epoch seconds). */
export function reportFileName(submitter: string, policyDomain: string, range: ReportRange, uniqueId: string, gzip = true): string {
  const s = (d: Date): number => Math.floor(d.getTime() / 1000);
  return `${submitter}!${policyDomain}!${s(range.start)}!${s(range.end)}!${uniqueId}.json${gzip ? '.gz' : ''}`;
}
