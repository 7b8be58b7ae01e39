/**
 * The TLSRPT lab row's follow-up (RFC 8460 §4.4, §5.3, §5.4): once the
 * scenario's message was delivered (and its attempt recorded in the relay's
 * spool), the day's report for the scenario's domain is sent through the
 * same code path as `dane-relay tlsrpt send` (tlsrpt/run-send.ts): the
 * https `rua` is POSTed to the lab HTTPS collector, the mailto `rua` is
 * queued in the relay's spool from `<>` and delivered by the relay to the
 * domain's MX (the sink). Both reports are validated against the RFC's JSON
 * structure (tlsrpt/validate.ts) and must count the scenario's successful
 * `tlsa` session; the mail must be DKIM-signed and carry the report as
 * `application/tlsrpt+gzip`.
 *
 * Bounded: the mail's delivery is awaited on the relay's event stream until
 * the lab deadline (the lab relay scans its spool every 2 s, as a production
 * relay does every `queue.scan_interval`; no queue-wide flush, which would
 * retry every deferred lab message). A second lab run finds the ledger says "already sent"
 * and checks the collected https report only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { buildDnsClient } from '../dns/from-config.ts';
import { sendReportsForDay } from '../tlsrpt/run-send.ts';
import { utcDay } from '../tlsrpt/store.ts';
import { validateReport } from '../tlsrpt/validate.ts';
import type { FollowUpContext, FollowUpResult } from './follow-up.ts';

const DKIM_DOMAIN = 'relay.lab.test';

/** Problems with one report: RFC structure, and it must count a successful tlsa session for `domain`. */
export function reportProblems(where: string, json: unknown, domain: string): string[] {
  const problems = validateReport(json).map((p) => `${where}: ${p}`);
  const policies = (json as { policies?: Array<{ policy?: Record<string, unknown>; summary?: Record<string, number> }> }).policies ?? [];
  const tlsa = policies.find((p) => p.policy?.['policy-type'] === 'tlsa' && p.policy['policy-domain'] === domain);
  if (!tlsa || (tlsa.summary?.['total-successful-session-count'] ?? 0) < 1) problems.push(`${where}: no successful tlsa session counted for ${domain}`);
  return problems;
}

/** The gzip'd JSON attachment of a report mail (§5.3), or a problem. */
export function reportFromMail(data: string): { json: unknown } | { problem: string } {
  const m = /Content-Type: application\/tlsrpt\+gzip[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*(?:\r?\n[^\r\n]+)*\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/i.exec(data);
  if (!m?.[1]) return { problem: 'mailto report: no application/tlsrpt+gzip part' };
  try {
    return { json: JSON.parse(gunzipSync(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')).toString('utf8')) as unknown };
  } catch (err) {
    return { problem: `mailto report: attachment is not gzip'd JSON (${(err as Error).message})` };
  }
}

async function mailProblems(ctx: FollowUpContext, from: number): Promise<string[]> {
  const rcpt = `tlsrpt@${ctx.domain}`;
  const done = await ctx.relay.events.waitFor((e) => e.event === 'delivery' && e.rcpt === rcpt, Math.max(0, ctx.deadline - Date.now()), from);
  if (!done) return ['mailto report: not delivered before the deadline'];
  if (done.status !== 'sent') return [`mailto report: ${String(done.status)} (${String(done.msg)})`];
  const msg = ctx.servers.mx.get(`${ctx.scenarioName}/mx1`)?.messages().find((m) => m.to.includes(rcpt));
  if (!msg) return ['mailto report: the sink did not receive it'];
  const problems: string[] = [];
  if (msg.from !== '') problems.push(`mailto report: envelope sender <${msg.from}>, expected <>`);
  if (!new RegExp(`^DKIM-Signature:[^]*?d=${DKIM_DOMAIN.replace(/\./g, '\\.')}`, 'mi').test(msg.data)) problems.push('mailto report: no DKIM-Signature');
  if (!/^TLS-Report-Domain: /mi.test(msg.data)) problems.push('mailto report: no TLS-Report-Domain header');
  const r = reportFromMail(msg.data);
  return [...problems, ...('problem' in r ? [r.problem] : reportProblems('mailto report', r.json, ctx.domain))];
}

export async function tlsrptFollowUp(ctx: FollowUpContext): Promise<FollowUpResult> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dkim = { domainName: DKIM_DOMAIN, keySelector: 'lab', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  const dns = await buildDnsClient(ctx.relay.config);
  try {
    const from = ctx.relay.events.events.length;
    const run = await sendReportsForDay({
      spool: ctx.relay.config.spool, dns, day: utcDay(Date.now()), dkim, ca: [ctx.caPem], timeoutMs: 10_000,
      identity: { organizationName: DKIM_DOMAIN, contactInfo: `postmaster@${DKIM_DOMAIN}` }, only: (d) => d === ctx.domain,
    });
    const kinds = run.outcomes.map((o) => `${o.uri ?? 'none'}=${o.kind}`).sort();
    const fresh = run.outcomes.some((o) => o.kind === 'queued');
    const problems = run.outcomes.filter((o) => !['sent', 'queued', 'already-sent'].includes(o.kind)).map((o) => `report ${o.uri ?? ''}: ${o.kind} ${'reason' in o ? o.reason : ''}`);
    if (run.outcomes.length !== 2) problems.push(`expected an https and a mailto report, got ${kinds.join(', ') || 'none'}`);
    const posted = ctx.sts.reports.find((r) => r.host === `reports.${ctx.domain}`);
    if (!posted) problems.push('https report: the collector received nothing');
    else {
      if (posted.contentType !== 'application/tlsrpt+gzip') problems.push(`https report: content type ${posted.contentType ?? 'none'}`);
      problems.push(...reportProblems('https report', posted.json, ctx.domain));
    }
    if (fresh) problems.push(...(await mailProblems(ctx, from)));
    const observed = problems.length === 0 ? `reports valid: https POSTed, mailto ${fresh ? 'delivered (DKIM, <>)' : 'sent in an earlier run'}` : 'reports: problems';
    return { problems, observed };
  } finally {
    await dns.close();
  }
}
