/**
 * Send the day's TLSRPT reports to every `rua` of every domain that asks
 * (RFC 8460 §5), once: a ledger in the spool remembers what went out.
 *
 * Contract (`sendDailyReports(day, reports, deps)`):
 * - only `ready` reports are sent; each rua URI once per (day, domain):
 *   `https:` via `deps.post` (src/tlsrpt/send-https.ts), `mailto:` by
 *   composing the message (src/tlsrpt/mail.ts, DKIM when configured) and
 *   handing it to `deps.enqueue` — the relay's own queue, so it is durable
 *   and retried like any mail;
 * - a URI is written to the ledger (`<spool>/tlsrpt/sent-<day>.json`,
 *   atomic replace) when it succeeded; a failed https POST is left out and
 *   tried again at the next run (§5.5); `tempfail` reports (DNS) likewise;
 * - returns one outcome per (domain, uri) for logs and `tlsrpt send`.
 * The ledger file is read once per call; a corrupt ledger throws (the
 * operator must look: resending could duplicate reports).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../sts/atomic-file.ts';
import type { DailyReport } from './daily.ts';
import type { DkimKey } from './mail.ts';
import { composeReportMail } from './mail.ts';
import type { TlsrptRua } from './record.ts';
import { dayRange, type TlsrptReport } from './report.ts';
import type { PostResult } from './send-https.ts';

export interface SendDeps {
  /** The spool's tlsrpt directory (TlsrptStore.dir). */
  dir: string;
  post: (url: string, report: TlsrptReport) => Promise<PostResult>;
  enqueue: (mail: { from: string; to: string; message: Buffer }) => Promise<void>;
  dkim: DkimKey | null;
  now: () => number;
}

export type SendOutcome =
  | { domain: string; uri: string; kind: 'sent' | 'queued' | 'already-sent' }
  | { domain: string; uri: string; kind: 'failed'; reason: string }
  | { domain: string; uri: null; kind: 'no-rua' | 'tempfail'; reason: string };

type Ledger = Record<string, string[]>;

async function readLedger(path: string): Promise<Ledger> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Ledger;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`TLSRPT ledger ${path} unreadable: ${(err as Error).message}`);
  }
}

async function sendOne(r: Extract<DailyReport, { kind: 'ready' }>, uri: TlsrptRua, day: string, deps: SendDeps): Promise<SendOutcome> {
  if (uri.kind === 'https') {
    const res = await deps.post(uri.url, r.report);
    return res.kind === 'sent' ? { domain: r.domain, uri: uri.uri, kind: 'sent' } : { domain: r.domain, uri: uri.uri, kind: 'failed', reason: res.reason };
  }
  const mail = await composeReportMail({ report: r.report, policyDomain: r.domain, range: dayRange(day), to: uri.address, now: deps.now(), dkim: deps.dkim });
  await deps.enqueue({ from: mail.from, to: uri.address, message: mail.message });
  return { domain: r.domain, uri: uri.uri, kind: 'queued' };
}

export async function sendDailyReports(day: string, reports: DailyReport[], deps: SendDeps): Promise<SendOutcome[]> {
  const path = join(deps.dir, `sent-${day}.json`);
  const ledger = await readLedger(path);
  const out: SendOutcome[] = [];
  for (const r of reports) {
    if (r.kind === 'no-rua') { out.push({ domain: r.domain, uri: null, kind: 'no-rua', reason: r.reason }); continue; }
    if (r.kind === 'tempfail') { out.push({ domain: r.domain, uri: null, kind: 'tempfail', reason: r.detail }); continue; }
    const done = (ledger[r.domain] ??= []);
    for (const uri of r.rua) {
      if (done.includes(uri.uri)) { out.push({ domain: r.domain, uri: uri.uri, kind: 'already-sent' }); continue; }
      const o = await sendOne(r, uri, day, deps);
      out.push(o);
      if (o.kind === 'sent' || o.kind === 'queued') {
        done.push(uri.uri);
        await writeFileAtomic(path, `${JSON.stringify(ledger)}\n`);
      }
    }
  }
  return out;
}
