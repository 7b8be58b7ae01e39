/**
 * `dane-relay check DOMAIN… [--file domains.txt] [--json] [--port N]
 * [--concurrency N] [--config FILE] [--resolver HOST:PORT]… [--ca-file FILE]
 * [--level LEVEL] [--timeout SECONDS]` — the commander registration; the work
 * is in src/tools/check/.
 *
 * Contract: exit status 0 all pass, 1 some DANE failure or undeliverable
 * domain, 2 usage or operational error (including every commander parse
 * error). Output and exit go through the injectable `CliIo` (cli/report.ts);
 * colour only when stdout is a terminal and NO_COLOR is not set (the
 * `terminal` argument, from the process by default). `runCheckCommand` runs
 * the real command in-process with argv, for tests.
 */
import { Command } from 'commander';
import type { TlsLevel } from '../core/tls-level.ts';
import { runCheck } from '../tools/check/run.ts';
import { runServiceCheck, wantsServiceCheck } from '../tools/service/run.ts';
import { applyCliIo, processIo, type CliIo } from './report.ts';
import { intArg, levelArg, resolverArg } from './args.ts';

export interface Terminal { isTTY: boolean; noColor: boolean }

export function processTerminal(): Terminal {
  const nc = process.env['NO_COLOR'];
  return { isTTY: process.stdout.isTTY === true, noColor: nc !== undefined && nc !== '' };
}

interface CheckFlags {
  file?: string; json?: boolean; port?: number; concurrency: number; config?: string;
  resolver?: string[]; caFile?: string; level?: TlsLevel; timeout?: number;
}

export function registerCheck(program: Command, io: CliIo = processIo(), terminal: Terminal = processTerminal()): Command {
  const cmd = program
    .command('check')
    .description('check domains as the relay would deliver to them: MX, addresses, TLSA, STARTTLS, chain, verdict (no mail is sent)')
    .argument('[targets...]', 'mail domains (through their MX) or service URLs: smtp://, submission://, smtps://, imap://, imaps://, https://HOST[:PORT]')
    .option('--file <file>', 'read domains from FILE, one a line (# comments and blank lines allowed)')
    .option('--json', 'print the same facts as JSON for scripts')
    .option('--port <n>', 'SMTP port to connect to (overrides delivery.port)', intArg('port', 1, 65535))
    .option('--concurrency <n>', 'domains checked at the same time', intArg('concurrency', 1, 64), 4)
    .option('--config <file>', "the relay's configuration file (default: embedded defaults)")
    .option('--resolver <host:port>', 'validating resolver (repeatable; overrides dns.resolvers)', resolverArg)
    .option('--ca-file <file>', 'PEM bundle of PKIX trust anchors (overrides tls.ca_file)')
    .option('--level <level>', 'TLS security level for every domain (default: what the relay would apply, dane by default)', levelArg)
    .option('--timeout <seconds>', 'connect and command timeout (default: the configured ones, at most 30)', intArg('timeout', 1, 600))
    .action(async (domains: string[], f: CheckFlags) => {
      const run = (await wantsServiceCheck(domains, f.file)) ? runServiceCheck : runCheck; // service URLs: src/tools/service
      const code = await run({
        domains, file: f.file, json: f.json, port: f.port, concurrency: f.concurrency, config: f.config,
        resolvers: f.resolver ?? [], caFile: f.caFile, level: f.level, timeoutSeconds: f.timeout,
      }, { stdout: io.stdout, stderr: io.stderr, color: terminal.isTTY && !terminal.noColor });
      io.setExitCode(code);
    });
  return applyCliIo(cmd, io);
}

/** Run `dane-relay check ARGV…` in-process; resolves to the exit status. */
export async function runCheckCommand(argv: string[], io: Omit<CliIo, 'setExitCode' | 'terminate'>, terminal: Terminal = { isTTY: false, noColor: false }): Promise<number> {
  let code = 0;
  class Stop extends Error { constructor(readonly code: number) { super(`exit ${code}`); } }
  const full: CliIo = { ...io, setExitCode: (c) => { code = c; }, terminate: (c) => { throw new Stop(c); } };
  const program = new Command('dane-relay');
  program.exitOverride();
  applyCliIo(program, full);
  registerCheck(program, full, terminal);
  try {
    await program.parseAsync(['node', 'dane-relay', 'check', ...argv]);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    code = err.code;
  }
  return code;
}
