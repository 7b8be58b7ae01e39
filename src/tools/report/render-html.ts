/**
 * The report as one self-contained HTML page: inline CSS, an inline SVG
 * stacked-bar chart of TLS states over time, and the same tables as the text
 * report. No scripts, no external resources (no src=, no <link>).
 *
 * Contract: pure; every string taken from the log is HTML-escaped (log content
 * is attacker-influenced: domains, diagnostics from remote servers).
 */
import { STATUSES, TLS_STATES, type LoggedTlsState } from './event.ts';
import type { ReportData } from './summary.ts';

const COLORS: Record<LoggedTlsState, string> = {
  Verified: '#1a7f37', Trusted: '#4c9be8', Untrusted: '#d4a72c', Anonymous: '#e8734c', none: '#cf222e',
};

export function escapeHtml(s: string | number | null): string {
  return String(s ?? '-').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlTable(caption: string, header: string[], rows: Array<Array<string | number | null>>): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><caption>${escapeHtml(caption)}</caption>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${tr}\n</tbody></table>\n`;
}

/** Stacked bars, one per time bucket on a linear time axis; height scaled to the busiest bucket. */
export function svgChart(d: ReportData, width = 800, height = 240): string {
  const buckets = d.series.buckets;
  const pad = 30;
  const max = Math.max(1, ...buckets.map((b) => TLS_STATES.reduce((n, s) => n + b.counts[s], 0)));
  const first = buckets[0]; const last = buckets[buckets.length - 1];
  // Bars sit on a continuous time axis: empty buckets leave gaps.
  const slots = first && last ? Math.round((last.start - first.start) / d.series.bucketMs) + 1 : 0;
  const bw = slots > 0 ? (width - 2 * pad) / slots : 0;
  const bars: string[] = [];
  buckets.forEach((b) => {
    const i = first ? Math.round((b.start - first.start) / d.series.bucketMs) : 0;
    let y = height - pad;
    for (const s of TLS_STATES) {
      const h = (b.counts[s] / max) * (height - 2 * pad);
      if (h <= 0) continue;
      y -= h;
      bars.push(`<rect x="${(pad + i * bw).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[s]}"><title>${escapeHtml(new Date(b.start).toISOString())} ${s}: ${b.counts[s]}</title></rect>`);
    }
  });
  const legend = TLS_STATES.map((s, i) => `<rect x="${pad + i * 110}" y="4" width="10" height="10" fill="${COLORS[s]}"/><text x="${pad + i * 110 + 14}" y="13">${s}</text>`).join('');
  const axis = first && last
    ? `<text x="${pad}" y="${height - 8}">${escapeHtml(new Date(first.start).toISOString())}</text><text x="${width - pad}" y="${height - 8}" text-anchor="end">${escapeHtml(new Date(last.start + d.series.bucketMs).toISOString())}</text>`
    : `<text x="${pad}" y="${height / 2}">no timed TLS events</text>`;
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="TLS states over time">` +
    `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#888"/>` +
    `<text x="4" y="${pad + 10}">${max}</text>${legend}${bars.join('')}${axis}</svg>`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
caption{text-align:left;font-weight:bold;padding:.3em 0}th,td{border:1px solid #ccc;padding:.2em .6em}td:not(:first-child){text-align:right}
svg text{font-size:11px;fill:#444}.ex td{text-align:left}`;

export function renderHtml(d: ReportData): string {
  const overview = htmlTable('Overview', ['item', 'value'], [
    ['time range', `${d.range.first ?? '-'} .. ${d.range.last ?? '-'}`], ['lines read', d.lines], ['events', d.events],
    ['not ours / unparseable', d.skipped], ['filtered out', d.filteredOut], ['messages accepted', d.messages.accepted],
  ]);
  const status = htmlTable('Deliveries by status', ['status', 'messages', 'recipients'], STATUSES.map((s) => [s, d.messages.byStatus[s], d.recipients[s]]));
  const tls = htmlTable('Deliveries by TLS state (recipients sent)', ['state', 'deliveries'], TLS_STATES.map((s) => [s, d.tls.deliveries[s]])) +
    htmlTable('TLS sessions established, by state', ['state', 'sessions'], TLS_STATES.filter((s) => s !== 'none').map((s) => [s, d.tls.sessions[s]]));
  const domains = htmlTable('Top recipient domains', ['domain', 'total', ...STATUSES, ...TLS_STATES],
    d.domains.top.map((r) => [r.domain, r.total, ...STATUSES.map((s) => r.status[s]), ...TLS_STATES.map((s) => r.tls[s])]));
  const refusals = htmlTable('Refusals to deliver by cause', ['cause', 'hosts skipped', 'deferred', 'bounced'],
    d.refusals.map((r) => [r.label, r.hostsSkipped, r.deferred, r.bounced]));
  const examples = d.refusals.flatMap((r) => r.examples.map((e) => [r.cause, e.time, e.domain, e.mx, e.dsn, e.text]));
  const exTable = htmlTable('Refusal examples', ['cause', 'time', 'domain', 'mx', 'dsn', 'text'], examples).replace('<table>', '<table class="ex">');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>dane-relay report</title><style>${CSS}</style></head>\n<body>\n<h1>dane-relay report</h1>\n` +
    `${overview}<h2>Deliveries by TLS state over time</h2>\n${svgChart(d)}\n${status}${tls}${domains}${refusals}${exTable}</body></html>\n`;
}
