/**
 * `dane-relay check` over mixed targets: mail domains (through their MX, the
 * relay's check-domain.ts) and service URLs (check-service.ts), one
 * `CheckReport`, the MX check's text/JSON output and exit codes (0 all pass,
 * 1 some fail or degraded, 2 usage or operational error).
 *
 * Contract: the set-up is the MX check's (check/run.ts `checkConfig`, the
 * relay's DNS client, route context and session settings, the DNSSEC probe
 * with its `on_failure` rule); `checkTargets` is also what `monitor` calls.
 * Targets come from arguments and `--file` (one a line, `#` comments).
 */
import { readFile } from 'node:fs/promises';
import { probeDnssec, type DnsClient } from '../../dns/index.ts';
import type { RecordType } from '../../core/dns-result.ts';
import type { RelayConfig } from '../../config/schema.ts';
import { buildDnsClient } from '../../dns/from-config.ts';
import { buildRouteContext, buildSessionSettings } from '../../outbound/create-deliverer.ts';
import type { RouteContext } from '../../outbound/route.ts';
import type { TlsLevel } from '../../core/tls-level.ts';
import { checkDomain, type CheckDeps } from '../check/check-domain.ts';
import { renderText } from '../check/render-text.ts';
import { checkConfig, type CheckIo, type CheckOptions } from '../check/run.ts';
import type { CheckReport, DomainReport } from '../check/types.ts';
import { checkService } from './check-service.ts';
import { isServiceUrl, parseTarget, type CheckTarget } from './target.ts';

class UsageError extends Error {}

/** Parse target strings (arguments, then list lines); duplicates dropped. */
export function parseTargets(inputs: string[]): CheckTarget[] {
  const seen = new Set<string>();
  const out: CheckTarget[] = [];
  for (const input of inputs) {
    const t = parseTarget(input);
    if ('error' in t) throw new UsageError(t.error);
    const key = t.kind === 'domain' ? t.domain : t.url;
    if (!seen.has(key)) { seen.add(key); out.push(t); }
  }
  return out;
}

/** Lines of a target list: `#` comments and blank lines ignored. */
export function listLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => (l.split('#')[0] ?? '').trim()).filter((l) => l !== '');
}

async function readList(file: string): Promise<string[]> {
  try {
    return listLines(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** True when the command line or the list file names a service URL (then this runner handles the check). */
export async function wantsServiceCheck(args: string[], file: string | undefined): Promise<boolean> {
  if (args.some(isServiceUrl)) return true;
  if (file === undefined) return false;
  return (await readList(file).catch(() => [])).some(isServiceUrl);
}

function forceLevel(ctx: RouteContext, level: TlsLevel | undefined): RouteContext {
  if (level === undefined) return ctx;
  return { ...ctx, policyFor: (hop, bracketed) => ({ ...ctx.policyFor(hop, bracketed), level }) };
}

export interface TargetRun { report: CheckReport; probeRefused: boolean }

/** Check every target with the relay's DNS client, `concurrency` at a time. */
export async function checkTargets(config: RelayConfig, dns: DnsClient, targets: CheckTarget[], o: { concurrency: number; level?: TlsLevel }): Promise<TargetRun> {
  const p = config.dns.dnssec_probe;
  const probe = await probeDnssec(dns, { name: p.name, type: p.type.toUpperCase() as RecordType });
  if (!probe.ok && p.on_failure === 'refuse') return { probeRefused: true, report: emptyReport(probe, o.level) };
  const deps: CheckDeps = {
    route: forceLevel(await buildRouteContext(config, dns), o.level),
    session: await buildSessionSettings(config), mxSessionLimit: config.delivery.mx_session_limit,
  };
  let internal = false;
  const one = (t: CheckTarget): Promise<DomainReport> => (t.kind === 'domain' ? checkDomain(deps, t.domain) : checkService(deps, t)).catch((err: unknown) => {
    internal = true;
    const name = t.kind === 'domain' ? t.domain : t.url;
    return { domain: name, nextHop: name, verdict: 'fail', reason: `internal error: ${(err as Error).message}`, dsn: null, deliverVia: null, notes: [], policy: null, mx: { route: null, dnssec: 'unknown', records: [] }, hosts: [] };
  });
  const reports: DomainReport[] = new Array<DomainReport>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => { while (next < targets.length) { const i = next++; reports[i] = await one(targets[i] as CheckTarget); } };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, targets.length)) }, worker));
  const count = (v: DomainReport['verdict']): number => reports.filter((r) => r.verdict === v).length;
  const summary = { domains: reports.length, pass: count('pass'), degraded: count('degraded'), fail: count('fail') };
  const exitCode = internal ? 2 : summary.pass === summary.domains ? 0 : 1;
  return { probeRefused: false, report: { version: 1, level: o.level ?? null, dnssecProbe: probe, domains: reports, summary, exitCode } };
}

function emptyReport(probe: CheckReport['dnssecProbe'], level: TlsLevel | undefined): CheckReport {
  return { version: 1, level: level ?? null, dnssecProbe: probe, domains: [], summary: { domains: 0, pass: 0, degraded: 0, fail: 0 }, exitCode: 2 };
}

/** `dane-relay check` with service URLs among the targets (same options as runCheck). */
export async function runServiceCheck(opts: CheckOptions, io: CheckIo): Promise<0 | 1 | 2> {
  let dns: DnsClient | null = null;
  try {
    const inputs = [...opts.domains, ...(opts.file !== undefined ? await readList(opts.file) : [])];
    const targets = parseTargets(inputs);
    if (targets.length === 0) throw new UsageError('no target to check: give DOMAIN or URL… or --file FILE');
    const config = checkConfig(opts);
    dns = await buildDnsClient(config);
    const run = await checkTargets(config, dns, targets, { concurrency: opts.concurrency, ...(opts.level ? { level: opts.level } : {}) });
    if (run.probeRefused) throw new UsageError(`${run.report.dnssecProbe.reason ?? 'DNSSEC probe failed'} (dns.dnssec_probe.on_failure=refuse; use a validating resolver on loopback, --resolver HOST:PORT)`);
    io.stdout(opts.json ? `${JSON.stringify(run.report, null, 2)}\n` : renderText(run.report, io.color));
    return run.report.exitCode;
  } catch (err) {
    io.stderr(`dane-relay check: ${(err as Error).message}\n`);
    return 2;
  } finally {
    if (dns) await dns.close();
  }
}
