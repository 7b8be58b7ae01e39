/**
 * `dane-relay report`: read logs, summarise, print text or JSON, optionally
 * write the HTML page.
 *
 * Contract: returns the exit status instead of exiting — 0 summary printed,
 * 1 the input held lines but not one was recognised (neither the relay's
 * JSON nor a Postfix-format maillog: the summary would be all zeros),
 * 2 usage error (bad --since/--until) or a log/HTML file that cannot be read
 * or written (message on stderr). Never throws for bad log content.
 */
import { writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { LogReadError, readLogLines } from './read-lines.ts';
import { renderHtml } from './render-html.ts';
import { renderText } from './render-text.ts';
import { ReportAccumulator, DEFAULT_LIMITS, type ReportData, type ReportLimits } from './summary.ts';

export interface ReportOptions {
  sources: string[];
  json?: boolean;
  since?: string;
  until?: string;
  domain?: string;
  html?: string;
  limits?: ReportLimits;
}
export interface ReportIo { stdout: (s: string) => void; stderr: (s: string) => void; stdin: Readable; now: () => number }

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** ISO 8601 date/time, epoch milliseconds, or a duration before now (`30m`, `24h`, `7d`); undefined when invalid. */
export function parseTimeArg(value: string, now: number): number | undefined {
  const rel = /^(\d+)([smhdw])$/.exec(value.trim());
  if (rel) return now - Number(rel[1]) * (UNIT_MS[rel[2] ?? 's'] ?? 1000);
  if (/^\d{10,}$/.test(value.trim())) return Number(value.trim());
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Summarise the sources; usage/IO errors come back as `{ error }`. */
export async function summarise(opts: ReportOptions, io: ReportIo): Promise<{ data: ReportData } | { error: string }> {
  const since = opts.since === undefined ? undefined : parseTimeArg(opts.since, io.now());
  const until = opts.until === undefined ? undefined : parseTimeArg(opts.until, io.now());
  if (opts.since !== undefined && since === undefined) return { error: `invalid --since: ${opts.since}` };
  if (opts.until !== undefined && until === undefined) return { error: `invalid --until: ${opts.until}` };
  const acc = new ReportAccumulator({ since, until, domain: opts.domain }, opts.limits ?? DEFAULT_LIMITS);
  try {
    await readLogLines(opts.sources.length > 0 ? opts.sources : ['-'], io.stdin, (line) => acc.addLine(line));
  } catch (e) {
    if (e instanceof LogReadError) return { error: e.message };
    throw e;
  }
  return { data: acc.result() };
}

export async function runReport(opts: ReportOptions, io: ReportIo): Promise<number> {
  const r = await summarise(opts, io);
  if ('error' in r) {
    io.stderr(`dane-relay report: ${r.error}\n`);
    return 2;
  }
  if (r.data.lines > 0 && r.data.events === 0 && r.data.filteredOut === 0) {
    io.stderr(`dane-relay report: none of the ${r.data.lines} lines is a dane-relay log event or a Postfix maillog line it reads\n`);
    return 1;
  }
  io.stdout(opts.json ? JSON.stringify(r.data, null, 2) + '\n' : renderText(r.data));
  if (opts.html !== undefined) {
    try {
      await writeFile(opts.html, renderHtml(r.data));
    } catch (e) {
      io.stderr(`dane-relay report: cannot write ${opts.html}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  return 0;
}
