/**
 * `dane-relay tlsrpt show [--day D]` and `dane-relay tlsrpt send [--day D]`
 * (RFC 8460): the day's recorded TLS results per policy domain, and sending
 * the day's aggregate reports now (https POST, mailto through the relay's
 * queue). `show` defaults to today (UTC), `send` to yesterday: a report
 * covers a whole UTC day (§4.1), and this is what the shipped
 * systemd/dane-relay-tlsrpt.timer runs once a day after 00:00 UTC.
 * Both take `-c, --config FILE` and `--spool DIR`.
 *
 * Contract: exit 0 when everything was shown/sent (or already sent: the
 * ledger makes a rerun idempotent), 1 when a report could not be sent or
 * a `_smtp._tls` lookup failed (kept for the next run), 2 usage, 78 bad
 * configuration.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { RelayConfig } from '../config/schema.ts';
import { buildDnsClient } from '../dns/from-config.ts';
import { prepareDailyReports } from '../tlsrpt/daily.ts';
import { dayRange } from '../tlsrpt/report.ts';
import { previousUtcDay, sendReportsForDay } from '../tlsrpt/run-send.ts';
import type { SendOutcome } from '../tlsrpt/send.ts';
import { tlsrptSettingsFromConfig } from '../tlsrpt/settings.ts';
import { renderDailyReports } from '../tlsrpt/show.ts';
import { TlsrptStore } from '../tlsrpt/store.ts';
import { applyCliIo, processIo, type CliIo } from './report.ts';

interface Flags { config?: string; spool?: string; day?: string }

function dayArg(v: string): string {
  try { dayRange(v); } catch { throw new InvalidArgumentError('expected YYYY-MM-DD'); }
  return v;
}

function outcomeLine(o: SendOutcome): string {
  const where = o.uri ?? '(no rua)';
  return `${o.domain} ${where}: ${o.kind}${'reason' in o ? ` (${o.reason})` : ''}\n`;
}

/** Loads the config and runs `fn` with a DNS client; configuration errors exit 78. */
async function withRelay(flags: Flags, io: CliIo, fn: (config: RelayConfig, dns: Awaited<ReturnType<typeof buildDnsClient>>) => Promise<number>): Promise<void> {
  let config: RelayConfig;
  try {
    config = loadConfig(flags.config, flags.spool ? { spool: flags.spool } : {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`dane-relay tlsrpt: ${err.message}\n`);
    io.setExitCode(78);
    return;
  }
  const dns = await buildDnsClient(config);
  try {
    io.setExitCode(await fn(config, dns));
  } catch (err) {
    io.stderr(`dane-relay tlsrpt: ${(err as Error).message}\n`);
    io.setExitCode(/config error/.test((err as Error).message) ? 78 : 1);
  } finally {
    await dns.close();
  }
}

export function registerTlsrpt(program: Command, io: CliIo = processIo()): Command {
  const cmd = program.command('tlsrpt').description('SMTP TLS Reporting (RFC 8460): show recorded results, send the daily reports');
  const common = (c: Command): Command => c
    .option('-c, --config <file>', 'YAML configuration file')
    .option('--spool <dir>', 'queue directory (default: from the config)')
    .option('--day <YYYY-MM-DD>', 'UTC day', dayArg);
  applyCliIo(common(cmd.command('show').description("the day's TLS results per policy domain and where reports go (default: today, UTC)")), io)
    .action(async (flags: Flags) => withRelay(flags, io, async (config, dns) => {
      const day = flags.day ?? new Date().toISOString().slice(0, 10);
      const settings = await tlsrptSettingsFromConfig(config);
      const { reports, warnings } = await prepareDailyReports(await TlsrptStore.open(config.spool), dns, day, settings.identity);
      for (const w of warnings) io.stderr(`warning: ${w}\n`);
      io.stdout(renderDailyReports(day, reports));
      return 0;
    }));
  applyCliIo(common(cmd.command('send').description("send the day's reports now: https POST, mailto via the relay's queue (default: yesterday, UTC)")), io)
    .action(async (flags: Flags) => withRelay(flags, io, async (config, dns) => {
      const day = flags.day ?? previousUtcDay(Date.now());
      const settings = await tlsrptSettingsFromConfig(config);
      const ca = config.tls.ca_file !== null ? [await readFile(config.tls.ca_file, 'utf8')] : undefined;
      const run = await sendReportsForDay({ spool: config.spool, dns, day, identity: settings.identity, dkim: settings.dkim, ca, timeoutMs: config.sts.fetch_timeout });
      for (const w of run.warnings) io.stderr(`warning: ${w}\n`);
      if (run.outcomes.length === 0) io.stdout(`TLSRPT ${day}: nothing to send\n`);
      for (const o of run.outcomes) io.stdout(outcomeLine(o));
      return run.outcomes.some((o) => o.kind === 'failed' || o.kind === 'tempfail') ? 1 : 0;
    }));
  return applyCliIo(cmd, io);
}
