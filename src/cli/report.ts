/**
 * `dane-relay report LOG… [--json] [--since T] [--until T] [--domain D] [--html FILE]`
 * — the commander registration; the work is in src/tools/report/.
 *
 * Contract: exit status 0 summary printed, 2 usage or operational error
 * (unknown option, bad time, unreadable log, unwritable HTML file). Output
 * and the exit go through an injectable `ReportCliIo` so tests run the real
 * command in-process; by default they are process.stdout/stderr/stdin,
 * `process.exitCode` for a finished command and `process.exit(2)` for a
 * commander usage error.
 */
import { Command, CommanderError } from 'commander';
import type { Readable } from 'node:stream';
import { runReport } from '../tools/report/run.ts';

/** Output and exit of a subcommand; shared by `tlsa` and `report`. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: Readable;
  /** The command finished with this status. */
  setExitCode: (code: number) => void;
  /** Commander found a usage error (2) or printed help (0): stop now. */
  terminate: (code: number, err: CommanderError) => never;
}

export type ReportCliIo = CliIo;

export function processIo(): CliIo {
  return {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    stdin: process.stdin,
    setExitCode: (code) => { process.exitCode = code; },
    terminate: (code) => process.exit(code),
  };
}

/** Route commander output and errors through `io`: help exits 0, any usage error exits 2. */
export function applyCliIo(cmd: Command, io: Pick<CliIo, 'stdout' | 'stderr' | 'terminate'>): Command {
  cmd.configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  cmd.exitOverride((err) => {
    const ok = err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
    io.terminate(ok ? 0 : 2, err);
  });
  return cmd;
}

interface ReportFlags { json?: boolean; since?: string; until?: string; domain?: string; html?: string }

export function registerReport(program: Command, io: ReportCliIo = processIo()): Command {
  const cmd = program
    .command('report')
    .description("summarise the relay's logs or any Postfix maillog: deliveries by TLS state, domains, refusals by cause")
    .argument('[logs...]', "log files (NDJSON, .gz accepted); '-' or none for stdin")
    .option('--json', 'print the summary as JSON')
    .option('--since <time>', 'only events at or after TIME (ISO 8601, epoch ms, or 30m/24h/7d ago)')
    .option('--until <time>', 'only events before TIME')
    .option('--domain <domain>', 'only events for this recipient domain')
    .option('--html <file>', 'also write a self-contained HTML page to FILE')
    .action(async (logs: string[], flags: ReportFlags) => {
      const code = await runReport({ sources: logs, ...flags }, { ...io, now: Date.now });
      io.setExitCode(code);
    });
  return applyCliIo(cmd, io);
}
