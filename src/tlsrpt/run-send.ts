/**
 * One day's TLSRPT reports from the spool's attempt store to their
 * destinations (RFC 8460 §5): the code path of `dane-relay tlsrpt send`
 * (and of its systemd timer) and of the lab.
 *
 * Contract (`sendReportsForDay(input)`):
 * - builds and validates the reports (tlsrpt/daily.ts), then sends each
 *   `rua` once per day (tlsrpt/send.ts ledger): https POSTed
 *   (tlsrpt/send-https.ts, PKIX against `tls.ca_file` or the system store),
 *   mailto composed and DKIM-signed when `tlsrpt.dkim` is set
 *   (tlsrpt/mail.ts) and queued through the relay's own queue from `<>`
 *   (tlsrpt/enqueue.ts);
 * - `only` restricts the run to some policy domains (the lab);
 * - returns the reports and the per-URI outcomes for the caller to print.
 * Never sends a report that fails validation (daily.ts throws: a bug).
 */
import type { DnsLookup } from '../core/dns-result.ts';
import type { DailyReport, ReportIdentity } from './daily.ts';
import { prepareDailyReports } from './daily.ts';
import { enqueueReportMail } from './enqueue.ts';
import type { DkimKey } from './mail.ts';
import { postReport } from './send-https.ts';
import { sendDailyReports, type SendOutcome } from './send.ts';
import { TlsrptStore } from './store.ts';

export interface SendRunInput {
  spool: string;
  dns: DnsLookup;
  day: string;
  identity: ReportIdentity;
  dkim: DkimKey | null;
  /** PEM trust anchors for https reports (tls.ca_file); undefined: Node's store. */
  ca?: string[] | undefined;
  timeoutMs: number;
  only?: (domain: string) => boolean;
  now?: () => number;
}

export interface SendRun { reports: DailyReport[]; outcomes: SendOutcome[]; warnings: string[] }

/** The day before `now`, UTC (`YYYY-MM-DD`): the day a daily run reports on (§4.1). */
export function previousUtcDay(now: number): string {
  return new Date(now - 86_400_000).toISOString().slice(0, 10);
}

export async function sendReportsForDay(input: SendRunInput): Promise<SendRun> {
  const store = await TlsrptStore.open(input.spool);
  const now = input.now ?? Date.now;
  const prepared = await prepareDailyReports(store, input.dns, input.day, input.identity);
  const reports = input.only ? prepared.reports.filter((r) => input.only?.(r.domain)) : prepared.reports;
  const outcomes = await sendDailyReports(input.day, reports, {
    dir: store.dir,
    post: (url, report) => postReport(url, report, { dns: input.dns, ca: input.ca, timeoutMs: input.timeoutMs }),
    enqueue: async (mail) => { await enqueueReportMail(input.spool, { to: mail.to, message: mail.message }, now()); },
    dkim: input.dkim,
    now,
  });
  return { reports, outcomes, warnings: prepared.warnings };
}
