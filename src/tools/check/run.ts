/**
 * `dane-relay check DOMAIN… [--file F] [--json] [--port N] [--concurrency N]
 * [--config F] [--resolver H:P]… [--ca-file F] [--level L] [--timeout S]`:
 * build the relay's own delivery parts from the configuration, check each
 * domain (check-domain.ts) with bounded concurrency, print, return the exit
 * status (RFC 7672; checklist C6 for the resolver self-check).
 *
 * Contract:
 * - Configuration: `--config` (else the embedded defaults) loaded by
 *   config/load.ts; `--resolver` replaces dns.resolvers, `--port`
 *   delivery.port, `--ca-file` tls.ca_file; `--level` replaces the level of
 *   every destination (default: what the relay would apply — the policy
 *   table, else tls.security_level, `dane` by default). Connect and command
 *   timeouts are `--timeout` seconds, else the configured ones capped at 30 s
 *   (a check should not wait 300 s on a tarpit).
 * - The DNS client, route context and TLS settings are the relay's
 *   (`buildDnsClient`, `buildRouteContext`, `buildSessionSettings`). The
 *   resolver is probed first, as the relay does at start-up, with the relay's
 *   decision (core/dnssec-guard, C6): when it does not validate, DANE is in
 *   force (`--level`, else the configured level and policy table) and
 *   dns.dnssec_probe.on_failure is `refuse`, the check stops with status 2
 *   (every answer would look insecure and DANE would "pass" vacuously);
 *   otherwise it goes on with a warning.
 * - MTA-STS (`sts.enabled`): the relay's resolver (sts/create.ts), with a
 *   cache in a temporary directory removed at the end: the check fetches
 *   the policy fresh and never touches the relay's spool.
 * - Exit status: 0 every domain `pass`; 1 some domain `degraded` or `fail`
 *   (DANE failure, bogus DNS, null MX / NXDOMAIN, nothing deliverable);
 *   2 usage or operational error (no domain, unreadable list or
 *   configuration, resolver probe refused, an internal error).
 * - Everything it opens (DNS sockets, SMTP sessions) is closed before it
 *   returns. No mail is ever sent.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dnssecGuard } from '../../core/dnssec-guard.ts';
import { usesDane, type TlsLevel } from '../../core/tls-level.ts';
import { daneRequired, probeOf } from '../../health/dnssec-guard.ts';
import { loadConfig, type RelayConfig } from '../../config/load.ts';
import { probeDnssec, type DnsClient } from '../../dns/index.ts';
import { buildDnsClient } from '../../dns/from-config.ts';
import { buildRouteContext, buildSessionSettings } from '../../outbound/create-deliverer.ts';
import type { RouteContext } from '../../outbound/route.ts';
import { createStsFromConfig, type StsSetup } from '../../sts/create.ts';
import { checkDomain, type CheckDeps } from './check-domain.ts';
import { mergeDomains, parseDomainList } from './domain-list.ts';
import { renderText } from './render-text.ts';
import type { CheckReport, DomainReport } from './types.ts';

export interface CheckOptions {
  domains: string[];
  file?: string;
  json?: boolean;
  port?: number;
  concurrency: number;
  config?: string;
  resolvers: string[];
  caFile?: string;
  level?: TlsLevel;
  timeoutSeconds?: number;
  /** Port of the MTA-STS policy servers (tests and the lab); default 443. */
  stsPort?: number;
}

export interface CheckIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** ANSI colour in the text output (a terminal and no NO_COLOR). */
  color: boolean;
}

const CHECK_TIMEOUT_CAP_MS = 30_000;

class UsageError extends Error {}

/** The relay's configuration with the command-line overrides applied. */
export function checkConfig(opts: Pick<CheckOptions, 'config' | 'resolvers' | 'port' | 'caFile' | 'timeoutSeconds'>): RelayConfig {
  const base = loadConfig(opts.config);
  const cap = (ms: number): number => (opts.timeoutSeconds !== undefined ? opts.timeoutSeconds * 1000 : Math.min(ms, CHECK_TIMEOUT_CAP_MS));
  return {
    ...base,
    dns: { ...base.dns, resolvers: opts.resolvers.length > 0 ? [...opts.resolvers] : base.dns.resolvers },
    tls: { ...base.tls, ca_file: opts.caFile !== undefined ? resolve(opts.caFile) : base.tls.ca_file },
    delivery: {
      ...base.delivery, port: opts.port ?? base.delivery.port,
      connect_timeout: cap(base.delivery.connect_timeout), command_timeout: cap(base.delivery.command_timeout),
    },
  };
}

/** `--level`: the same level for every destination, the rest of the table entry kept. */
function forceLevel(ctx: RouteContext, level: TlsLevel | undefined): RouteContext {
  if (level === undefined) return ctx;
  return { ...ctx, policyFor: (hop, bracketed) => ({ ...ctx.policyFor(hop, bracketed), level }) };
}

async function domainsOf(opts: CheckOptions): Promise<string[]> {
  let fromFile: string[] = [];
  if (opts.file !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const list = parseDomainList(text, opts.file);
    if (list.kind === 'error') throw new UsageError(list.message);
    fromFile = list.domains;
  }
  const all = mergeDomains(opts.domains, fromFile);
  if (all.kind === 'error') throw new UsageError(all.message);
  if (all.domains.length === 0) throw new UsageError('no domain to check: give DOMAIN… or --file FILE');
  return all.domains;
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

function internalFailure(domain: string, err: unknown): DomainReport {
  return {
    domain, nextHop: domain, verdict: 'fail', reason: `internal error: ${(err as Error).message}`, dsn: null, deliverVia: null,
    notes: [], policy: null, mx: { route: null, dnssec: 'unknown', records: [] }, hosts: [],
  };
}

async function checkAll(config: RelayConfig, dns: DnsClient, opts: CheckOptions, domains: string[], sts: StsSetup | null): Promise<{ report: CheckReport; internal: boolean }> {
  const probe = await probeDnssec(dns, probeOf(config));
  // C6: the relay's own start-up decision, for the level this check applies.
  const required = opts.level !== undefined ? usesDane(opts.level) : daneRequired(config);
  const guard = dnssecGuard(probe, { daneRequired: required, onFailure: config.dns.dnssec_probe.on_failure });
  if (guard.kind === 'refuse') {
    throw new UsageError(`${guard.reason} (dns.dnssec_probe.on_failure=refuse; use a validating resolver on loopback, --resolver HOST:PORT)`);
  }
  const route = forceLevel(await buildRouteContext(config, dns), opts.level);
  const deps: CheckDeps = {
    route: sts ? { ...route, sts: (hop) => sts.resolver.resolve(hop) } : route,
    session: await buildSessionSettings(config),
    mxSessionLimit: config.delivery.mx_session_limit,
  };
  let internal = false;
  const reports = await mapBounded(domains, opts.concurrency, (d) => checkDomain(deps, d).catch((err: unknown) => {
    internal = true;
    return internalFailure(d, err);
  }));
  const count = (v: DomainReport['verdict']): number => reports.filter((r) => r.verdict === v).length;
  const summary = { domains: reports.length, pass: count('pass'), degraded: count('degraded'), fail: count('fail') };
  const exitCode = internal ? 2 : summary.pass === summary.domains ? 0 : 1;
  const report: CheckReport = { version: 1, level: opts.level ?? null, dnssecProbe: probe, domains: reports, summary, exitCode };
  return { report, internal };
}

/** Run the command; returns the exit status (see the module contract). */
export async function runCheck(opts: CheckOptions, io: CheckIo): Promise<0 | 1 | 2> {
  let dns: DnsClient | null = null;
  let stsDir: string | null = null;
  try {
    const domains = await domainsOf(opts);
    const config = checkConfig(opts);
    dns = await buildDnsClient(config);
    // MTA-STS as the relay would apply it, fetched fresh into a private cache (the relay's spool is left alone).
    stsDir = await mkdtemp(join(tmpdir(), 'dane-relay-check-sts-'));
    const sts = await createStsFromConfig({ ...config, spool: stsDir }, dns, opts.stsPort ? { port: opts.stsPort } : {});
    const { report } = await checkAll(config, dns, opts, domains, sts);
    io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, io.color));
    return report.exitCode;
  } catch (err) {
    io.stderr(`dane-relay check: ${(err as Error).message}\n`);
    return 2;
  } finally {
    if (dns) await dns.close();
    if (stsDir) await rm(stsDir, { recursive: true, force: true });
  }
}
