/**
 * `dane-relay monitor [TARGET…] [--file LIST] --state FILE [--once |
 * --interval SECONDS] [--cert-days N] [--rrsig-days N] [--next-cert
 * TARGET=FILE]… [--mail-to ADDR]… [--mail-from ADDR] [--smtp HOST:PORT]
 * [--exec COMMAND] [--textfile FILE] [--json]` plus the check's
 * `--config`, `--resolver`, `--ca-file`, `--level`, `--timeout`,
 * `--concurrency` — the commander registration; the work is in
 * src/tools/monitor/.
 *
 * Contract: exit 0 all pass without warnings, 1 some failure or warning,
 * 2 usage or operational error (every commander parse error included).
 * SIGINT/SIGTERM end `--interval` after the pass in progress.
 */
import { hostname } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import type { TlsLevel } from '../core/tls-level.ts';
import { runMonitor } from '../tools/monitor/run.ts';
import { applyCliIo, processIo, type CliIo } from './report.ts';
import { collect, intArg, levelArg, resolverArg } from './args.ts';

function hostPort(v: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected HOST[:PORT]');
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 25 };
}

interface MonitorFlags {
  file?: string; state: string; once?: boolean; interval?: number; certDays: number; rrsigDays: number; nextCert: string[];
  mailTo: string[]; mailFrom?: string; smtp: { host: string; port: number }; exec?: string; textfile?: string; json?: boolean;
  concurrency: number; config?: string; resolver?: string[]; caFile?: string; level?: TlsLevel; timeout?: number;
}

export function registerMonitor(program: Command, io: CliIo = processIo()): Command {
  const cmd = program
    .command('monitor')
    .description('check domains and services on a schedule; remember the last verdict per target; report and alert on changes only')
    .argument('[targets...]', 'mail domains or service URLs (as for check)')
    .option('--file <file>', 'targets, one a line (# comments)')
    .requiredOption('--state <file>', 'state file: the last verdict and warnings per target (JSON)')
    .option('--once', 'one pass, then exit (the default; for cron or a systemd timer)')
    .option('--interval <seconds>', 'repeat every SECONDS until SIGINT/SIGTERM', intArg('interval', 10, 604_800))
    .option('--cert-days <n>', 'warn when a presented certificate expires within N days', intArg('cert-days', 0, 3650), 14)
    .option('--rrsig-days <n>', 'warn when an RRSIG over the MX or TLSA RRset expires within N days', intArg('rrsig-days', 0, 3650), 3)
    .option('--next-cert <target=file>', "staged next certificate (PEM) of a target, e.g. certbot's renewed fullchain.pem (repeatable)", collect, [])
    .option('--mail-to <addr>', 'mail the changes to ADDR (repeatable)', collect, [])
    .option('--mail-from <addr>', 'sender of alert mail (default dane-relay-monitor@HOSTNAME)')
    .option('--smtp <host:port>', 'SMTP server for alert mail, e.g. the relay itself', hostPort, { host: '127.0.0.1', port: 25 })
    .option('--exec <command>', 'run COMMAND (/bin/sh -c) with the changes on stdin')
    .option('--textfile <file>', 'write Prometheus metrics for the node_exporter textfile collector')
    .option('--json', 'print changes and observations as JSON')
    .option('--concurrency <n>', 'targets checked at the same time', intArg('concurrency', 1, 64), 4)
    .option('--config <file>', "the relay's configuration file")
    .option('--resolver <host:port>', 'validating resolver (repeatable)', resolverArg)
    .option('--ca-file <file>', 'PEM bundle of PKIX trust anchors')
    .option('--level <level>', 'TLS security level for mail domains', levelArg)
    .option('--timeout <seconds>', 'connect and command timeout', intArg('timeout', 1, 600))
    .action(async (targets: string[], f: MonitorFlags) => {
      if (f.once && f.interval !== undefined) { io.stderr('dane-relay monitor: --once and --interval exclude each other\n'); io.setExitCode(2); return; }
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop).once('SIGTERM', stop);
      try {
        io.setExitCode(await runMonitor({
          targets, file: f.file, state: f.state, thresholds: { certDays: f.certDays, rrsigDays: f.rrsigDays }, nextCerts: f.nextCert,
          ...(f.mailTo.length > 0 ? { mail: { ...f.smtp, from: f.mailFrom ?? `dane-relay-monitor@${hostname()}`, to: f.mailTo } } : {}),
          exec: f.exec, textfile: f.textfile, intervalSeconds: f.interval, concurrency: f.concurrency, json: f.json,
          config: f.config, resolvers: f.resolver ?? [], caFile: f.caFile, level: f.level, timeoutSeconds: f.timeout,
        }, { stdout: io.stdout, stderr: io.stderr, signal: abort.signal }));
      } finally {
        process.off('SIGINT', stop).off('SIGTERM', stop);
      }
    });
  return applyCliIo(cmd, io);
}
