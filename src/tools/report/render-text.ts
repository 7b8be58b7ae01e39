/**
 * The report for a person: plain-text tables from a `ReportData`.
 *
 * Contract: pure; output ends with a newline; every section is present even
 * when empty so that scripts grepping for a heading do not break (scripts
 * should use --json anyway).
 */
import { STATUSES, TLS_STATES } from './event.ts';
import type { ReportData } from './summary.ts';

/** Log text comes from remote servers: no control characters reach the terminal. */
export function clean(s: string | null): string {
  return (s ?? '-').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Left-align the first column, right-align the others. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...all.slice(1).map(line)].join('\n') + '\n';
}

function overview(d: ReportData): string {
  const approx = (b: boolean): string => (b ? ' (approximate: more distinct queue ids than tracked)' : '');
  return [
    `Time range: ${d.range.first ?? '-'} .. ${d.range.last ?? '-'}`,
    `Lines read: ${d.lines} (events ${d.events}, not ours/unparseable ${d.skipped}, filtered out ${d.filteredOut})`,
    `Messages accepted: ${d.messages.accepted} (${d.messages.recipients} recipients, ${d.messages.bytes} bytes)`,
    '',
  ].join('\n') + `\nDeliveries by status${approx(d.messages.approximate)}\n` +
    table(['status', 'messages', 'recipients'], STATUSES.map((s) => [s, d.messages.byStatus[s], d.recipients[s]]));
}

function tlsSection(d: ReportData): string {
  const dane = Object.entries(d.tls.dane).sort((a, b) => b[1] - a[1]);
  return '\nDeliveries by TLS state (recipients sent; none: without TLS)\n' +
    table(['state', 'deliveries'], TLS_STATES.map((s) => [s, d.tls.deliveries[s]])) +
    '\nTLS sessions established, by state (a reused session carries several deliveries)\n' +
    table(['state', 'sessions'], TLS_STATES.filter((s) => s !== 'none').map((s) => [s, d.tls.sessions[s]])) +
    '\nDANE results\n' + table(['dane.result', 'sessions'], dane);
}

function domainSection(d: ReportData): string {
  const note = d.domains.approximate ? ' (too many domains: later ones counted under "(other)")' : '';
  return `\nTop recipient domains (${d.domains.distinct} distinct)${note}\n` +
    table(['domain', 'total', ...STATUSES, ...TLS_STATES],
      d.domains.top.map((r) => [clean(r.domain), r.total, ...STATUSES.map((s) => r.status[s]), ...TLS_STATES.map((s) => r.tls[s])]));
}

function refusalSection(d: ReportData): string {
  let out = '\nRefusals to deliver by cause\n' +
    table(['cause', 'hosts skipped', 'deferred', 'bounced'], d.refusals.map((r) => [r.label, r.hostsSkipped, r.deferred, r.bounced]));
  for (const r of d.refusals) {
    out += `\n  ${r.cause}: examples\n`;
    for (const e of r.examples) {
      out += `    ${e.time ?? '-'} ${clean(e.domain)} ${clean(e.mx)} ${clean(e.dsn)} ${clean(e.text)}\n`;
    }
  }
  return out;
}

export function renderText(d: ReportData): string {
  return overview(d) + tlsSection(d) + domainSection(d) + refusalSection(d);
}
