/**
 * `dane-relay monitor`: check a list of mail domains and service URLs, keep
 * the last observation per target in a state file, report changes only.
 *
 * Contract:
 * - One pass = the check of every target exactly as `dane-relay check`
 *   (service/run.ts `checkTargets`: relay DNS client, routing, sessions,
 *   core verification), then per target the RRSIG expiry of its MX and TLSA
 *   RRsets (rrsig.ts) and the staged next certificate (staged.ts), then
 *   observe.ts turns that into an observation and the list of changes since
 *   the state file's.
 * - Changes are printed (one line each, or `--json`) and sent to every
 *   configured alert (mail, command) when there is at least one; the
 *   Prometheus textfile is written every pass. When an alert fails the state
 *   file is NOT updated, so the next pass reports the same changes again:
 *   an alert is never lost. A state file that does not parse is an error
 *   (exit 2), never overwritten.
 * - `--once` (default) runs one pass (cron, systemd timer); `--interval S`
 *   repeats until the signal aborts or `runs` passes are done.
 * - Exit: 0 every target passes with no warning, 1 some target fails, is
 *   degraded or has a warning, 2 usage or operational error (DNSSEC probe
 *   refused, state file, alert failed).
 */
import type { RelayConfig } from '../../config/schema.ts';
import { buildDnsClient, dnsClientOptions } from '../../dns/from-config.ts';
import { buildSessionSettings } from '../../outbound/create-deliverer.ts';
import type { DnsClient } from '../../dns/index.ts';
import type { TlsLevel } from '../../core/tls-level.ts';
import { checkConfig } from '../check/run.ts';
import type { DomainReport } from '../check/types.ts';
import { checkTargets, listLines, parseTargets } from '../service/run.ts';
import { parseTarget } from '../service/target.ts';
import { commandAlert, mailAlert, textfileMetrics, type MailTarget } from './alerts.ts';
import { describeChange, diffObservation, observe, type Change, type Observation, type Thresholds } from './observe.ts';
import { rrsigExpiry, type RrsigExpiry } from './rrsig.ts';
import { checkStaged } from './staged.ts';
import { loadState, saveState } from './state.ts';
import { readFile } from 'node:fs/promises';

export interface MonitorOptions {
  targets: string[];
  file?: string;
  state: string;
  thresholds: Thresholds;
  /** `TARGET=FILE`: the staged next certificate of a target. */
  nextCerts: string[];
  mail?: MailTarget;
  exec?: string;
  textfile?: string;
  intervalSeconds?: number;
  runs?: number;
  concurrency: number;
  json?: boolean;
  config?: string;
  resolvers: string[];
  caFile?: string;
  level?: TlsLevel;
  timeoutSeconds?: number;
}

export interface MonitorIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  now?: () => Date;
  signal?: AbortSignal;
}

class UsageError extends Error {}
const ALERT_TIMEOUT_MS = 60_000;

const keyOf = (input: string): string => {
  const t = parseTarget(input);
  if ('error' in t) throw new UsageError(t.error);
  return t.kind === 'domain' ? t.domain : t.url;
};

function stagedMap(pairs: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of pairs) {
    const i = p.lastIndexOf('=');
    if (i <= 0 || i === p.length - 1) throw new UsageError(`--next-cert: expected TARGET=FILE, got "${p}"`);
    m.set(keyOf(p.slice(0, i)), p.slice(i + 1));
  }
  return m;
}

/** MX (domains routed through MX) and TLSA RRsets whose signatures are watched. */
function signedRrsets(r: DomainReport): Array<{ name: string; type: 'MX' | 'TLSA' }> {
  const out: Array<{ name: string; type: 'MX' | 'TLSA' }> = [];
  if (r.mx.route === 'mx') out.push({ name: r.nextHop, type: 'MX' });
  for (const h of r.hosts) if (h.tlsa.owner && !out.some((o) => o.name === h.tlsa.owner)) out.push({ name: h.tlsa.owner, type: 'TLSA' });
  return out;
}

async function observeAll(config: RelayConfig, dns: DnsClient, opts: MonitorOptions, now: Date): Promise<Observation[]> {
  const inputs = [...opts.targets, ...(opts.file !== undefined ? listLines(await readFile(opts.file, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new UsageError(`cannot read ${opts.file}: ${e.code ?? String(e)}`); })) : [])];
  const targets = parseTargets(inputs);
  if (targets.length === 0) throw new UsageError('no target to monitor: give DOMAIN or URL… or --file FILE');
  const staged = stagedMap(opts.nextCerts);
  const run = await checkTargets(config, dns, targets, { concurrency: opts.concurrency, ...(opts.level ? { level: opts.level } : {}) });
  if (run.probeRefused) throw new UsageError(`${run.report.dnssecProbe.reason ?? 'DNSSEC probe failed'} (dns.dnssec_probe.on_failure=refuse)`);
  const server = (await dnsClientOptions(config)).servers[0];
  const anchors = (await buildSessionSettings(config)).trustAnchors;
  const timeoutMs = config.delivery.command_timeout;
  const out: Observation[] = [];
  for (const report of run.report.domains) {
    const rrsigs: RrsigExpiry[] = server ? await Promise.all(signedRrsets(report).map((s) => rrsigExpiry(server, s.name, s.type, timeoutMs))) : [];
    const file = staged.get(report.domain);
    const stagedCheck = file !== undefined ? await checkStaged(report, file, anchors, now) : undefined;
    out.push(observe(report, { rrsigs, ...(stagedCheck ? { staged: stagedCheck } : {}) }, opts.thresholds, now));
  }
  return out;
}

async function sendAlerts(opts: MonitorOptions, changes: Change[], observations: Observation[]): Promise<string[]> {
  if (changes.length === 0) return [];
  const text = `${changes.map(describeChange).join('\n')}\n`;
  const worst = observations.some((o) => o.verdict === 'fail') ? 'fail' : observations.some((o) => o.verdict === 'degraded') ? 'degraded' : 'pass';
  const errors: string[] = [];
  if (opts.mail) {
    const e = await mailAlert(opts.mail, `dane-relay monitor: ${changes.length} change(s), worst ${worst}`, text, ALERT_TIMEOUT_MS);
    if (e) errors.push(e);
  }
  if (opts.exec) {
    const e = await commandAlert(opts.exec, text, { DANE_MONITOR_CHANGES: String(changes.length), DANE_MONITOR_WORST: worst }, ALERT_TIMEOUT_MS);
    if (e) errors.push(e);
  }
  return errors;
}

/** One pass (see the module contract). */
export async function monitorPass(opts: MonitorOptions, io: MonitorIo): Promise<0 | 1 | 2> {
  let dns: DnsClient | null = null;
  try {
    const now = (io.now ?? (() => new Date()))();
    const state = await loadState(opts.state);
    const config = checkConfig(opts);
    dns = await buildDnsClient(config);
    const observations = await observeAll(config, dns, opts, now);
    const changes = observations.flatMap((o) => diffObservation(state.targets[o.target], o));
    io.stdout(opts.json ? `${JSON.stringify({ checkedAt: now.toISOString(), changes, observations }, null, 2)}\n` : changes.map((c) => `${describeChange(c)}\n`).join(''));
    const errors = await sendAlerts(opts, changes, observations);
    if (opts.textfile) { const e = await textfileMetrics(opts.textfile, observations, now); if (e) errors.push(e); }
    if (errors.length > 0) {
      for (const e of errors) io.stderr(`dane-relay monitor: ${e}\n`);
      io.stderr('dane-relay monitor: state file not updated: the same changes will be reported next time\n');
      return 2;
    }
    await saveState(opts.state, { version: 1, targets: Object.fromEntries(observations.map((o) => [o.target, o])) });
    return observations.every((o) => o.verdict === 'pass' && o.warnings.length === 0) ? 0 : 1;
  } catch (err) {
    io.stderr(`dane-relay monitor: ${(err as Error).message}\n`);
    return 2;
  } finally {
    if (dns) await dns.close();
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const timer = setTimeout(done, ms);
    function done(): void { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `--once` or `--interval`: the exit status of the last pass. */
export async function runMonitor(opts: MonitorOptions, io: MonitorIo): Promise<0 | 1 | 2> {
  let code = await monitorPass(opts, io);
  if (opts.intervalSeconds === undefined) return code;
  for (let n = 1; opts.runs === undefined || n < opts.runs; n++) {
    await pause(opts.intervalSeconds * 1000, io.signal);
    if (io.signal?.aborted) break;
    code = await monitorPass(opts, io);
  }
  return code;
}
