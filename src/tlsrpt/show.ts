/**
 * `dane-relay tlsrpt show`: the day's TLSRPT data as text, one block per
 * policy domain: where reports go (or why none), then per policy the
 * session counts and the failure details. Pure: renders `DailyReport`s.
 */
import type { DailyReport } from './daily.ts';

function destination(r: DailyReport): string {
  if (r.kind === 'ready') return `reports to ${r.rua.map((u) => u.uri).join(', ')}`;
  if (r.kind === 'tempfail') return `_smtp._tls lookup failed (${r.detail}): kept, retried later`;
  return `no report requested (${r.reason})`;
}

export function renderDailyReports(day: string, reports: DailyReport[]): string {
  if (reports.length === 0) return `TLSRPT ${day}: no delivery attempts recorded\n`;
  const lines = [`TLSRPT ${day}: ${reports.length} policy domain(s)`];
  for (const r of reports) {
    lines.push('', `${r.domain}: ${destination(r)}`);
    for (const p of r.report.policies) {
      const s = p.summary;
      const mx = p.policy['mx-host'] ? ` mx-host ${p.policy['mx-host'].join(' ')}` : '';
      lines.push(`  ${p.policy['policy-type']}${mx}: ${s['total-successful-session-count']} successful, ${s['total-failure-session-count']} failed`);
      for (const d of p['failure-details']) {
        const at = d['receiving-ip'] ? `[${d['receiving-ip']}]` : '';
        const code = d['failure-reason-code'] ? ` (${d['failure-reason-code']})` : '';
        lines.push(`    ${d['failed-session-count']} x ${d['result-type']} at ${d['receiving-mx-hostname']}${at}${code}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
