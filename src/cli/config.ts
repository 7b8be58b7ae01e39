/**
 * `dane-relay config check [--config FILE]` — validates the configuration as
 * `serve` and SIGHUP do, without starting anything (as `postfix check`).
 *
 * Contract: the same `loadConfig` as `serve` (schema enums for the TLS levels,
 * every policy-table and transport-table entry, CIDRs, durations, readable
 * files, the certificate/key pair, the users file). On errors: one line per
 * problem, `dane-relay: config error: <key or file: line N>: <problem>`, on stderr and
 * exit 78 (EX_CONFIG; systemd's RestartPreventExitStatus=78). On success the
 * effective configuration as YAML (durations in milliseconds, paths
 * absolute) and the table sizes on stdout (nothing with `--quiet`), exit 0.
 * No DNS, no sockets.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../config/load.ts';
import { EX_CONFIG } from '../config/errors.ts';
import { configTables } from '../config/tables.ts';

export { EX_CONFIG };

export interface ConfigCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  setExitCode: (code: number) => void;
}

const processIo: ConfigCliIo = {
  stdout: (s) => { process.stdout.write(s); },
  stderr: (s) => { process.stderr.write(s); },
  setExitCode: (code) => { process.exitCode = code; },
};

/** Validates `file` (or the embedded defaults); returns the exit status it set. */
export function configCheck(file: string | undefined, io: ConfigCliIo = processIo, quiet = false): number {
  try {
    const config = loadConfig(file);
    const tables = configTables(config);
    io.setExitCode(0);
    if (quiet) return 0;
    io.stdout(`# dane-relay: configuration ${file ?? '(embedded defaults)'} is valid; durations in milliseconds\n`);
    io.stdout(`# tls policy table: ${tables.policy.entries.size} entries; transport table: ${tables.transport.entries.size} entries\n`);
    io.stdout(stringify(config));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(err.lines('dane-relay: '));
    io.setExitCode(EX_CONFIG);
    return EX_CONFIG;
  }
}

export function registerConfig(program: Command, io: ConfigCliIo = processIo): Command {
  const config = program.command('config').description('configuration tools (like postfix check)');
  config
    .command('check')
    .description('validate the configuration as serve does; exit 0 when valid, 78 on an error')
    .option('-c, --config <file>', 'YAML configuration file (default: none, embedded defaults)')
    .option('-q, --quiet', 'print nothing when the configuration is valid')
    .action((flags: { config?: string; quiet?: boolean }) => { configCheck(flags.config, io, flags.quiet === true); });
  return program;
}
