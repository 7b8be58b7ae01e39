/**
 * The day's reports: from the attempt store (src/tlsrpt/store.ts) to one
 * validated RFC 8460 §4.4 report per policy domain that asks for reports,
 * ready for the senders (https: src/tlsrpt/send-https.ts, mailto:
 * src/tlsrpt/mail.ts). Used by the daily job and `tlsrpt show|send`.
 *
 * Contract (`prepareDailyReports(store, dns, day, meta)`):
 * - every policy domain with attempts that day gets a `DailyReport`:
 *   `ready` (rua found; report built and passing validateReport),
 *   `no-rua` (the domain publishes no usable `_smtp._tls` record: nothing
 *   is sent), or `tempfail` (DNS failed: try again later; the data stays);
 * - `report-id` is `<day>_<policy domain>@<organization>` — stable, so a
 *   resend of the same day is recognisable as a duplicate (§4.1);
 * - a report that fails validation is a bug: it throws.
 */
import type { DnsLookup } from '../core/dns-result.ts';
import { lookupTlsrpt } from './lookup.ts';
import type { TlsrptRua } from './record.ts';
import { buildReport, dayRange, type TlsrptReport } from './report.ts';
import type { TlsrptStore } from './store.ts';
import { validateReport } from './validate.ts';

export interface ReportIdentity {
  organizationName: string;
  contactInfo: string;
}

export type DailyReport =
  | { kind: 'ready'; domain: string; report: TlsrptReport; rua: TlsrptRua[] }
  | { kind: 'no-rua'; domain: string; report: TlsrptReport; reason: string }
  | { kind: 'tempfail'; domain: string; report: TlsrptReport; detail: string };

export async function prepareDailyReports(store: TlsrptStore, dns: DnsLookup, day: string, who: ReportIdentity): Promise<{ reports: DailyReport[]; warnings: string[] }> {
  const range = dayRange(day);
  const { attempts, warnings } = await store.read(day);
  const domains = [...new Set(attempts.map((a) => a.policyDomain))].sort();
  const reports: DailyReport[] = [];
  for (const domain of domains) {
    const report = buildReport(domain, attempts, { ...who, reportId: `${day}_${domain}@${who.organizationName}`, range });
    const problems = validateReport(report);
    if (problems.length > 0) throw new Error(`TLSRPT report for ${domain} ${day} is invalid: ${problems.join('; ')}`);
    const found = await lookupTlsrpt(dns, domain);
    if (found.kind === 'record') reports.push({ kind: 'ready', domain, report, rua: found.rua });
    else if (found.kind === 'tempfail') reports.push({ kind: 'tempfail', domain, report, detail: found.detail });
    else reports.push({ kind: 'no-rua', domain, report, reason: found.reason });
  }
  return { reports, warnings };
}
