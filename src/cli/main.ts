/**
 * The `dane-relay` command (commander). Each subcommand registers itself
 * from its own module (`registerServe(program)`, `registerQueue(program)`,
 * ...); this file only lists them. Usage errors exit 2.
 *
 * Contract:
 * - Commands load lazily: `dane-relay serve` imports only the serve module
 *   (and what it needs), never the lab (certificate generation) or the tools.
 *   Top-level `--help`, `--version`, `help` or an unknown word load every
 *   command so help and "unknown command" stay complete.
 * - Output into a closed pipe (`dane-relay queue show ID | head -1`) ends the
 *   process quietly with exit 0, as Unix tools do (EPIPE on stdout/stderr).
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';

type Registrar = (p: Command) => unknown;

/** Command word → its module, imported only when that command runs. */
const COMMANDS: Record<string, () => Promise<Registrar>> = {
  serve: async () => (await import('./serve.ts')).registerServe,
  config: async () => (await import('./config.ts')).registerConfig,
  queue: async () => (await import('./queue.ts')).registerQueue,
  report: async () => (await import('./report.ts')).registerReport,
  tlsa: async () => (await import('./tlsa.ts')).registerTlsa,
  lab: async () => (await import('./lab.ts')).registerLab,
  check: async () => (await import('./check.ts')).registerCheck,
  monitor: async () => (await import('./monitor.ts')).registerMonitor,
  tlsrpt: async () => (await import('./tlsrpt.ts')).registerTlsrpt,
};

/** The command words whose modules `argv` needs (all of them unless argv[2] names one). */
export function commandsFor(argv: readonly string[]): string[] {
  const word = argv[2];
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? [word] : Object.keys(COMMANDS);
}

export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const program = new Command('dane-relay')
    .version(version)
    .description("SMTP outbound relay enforcing DANE (RFC 7672) with Postfix's TLS security levels")
    .showHelpAfterError()
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 || err.code === 'commander.helpDisplayed' ? 0 : 2);
    });
  for (const word of commandsFor(argv)) {
    const load = COMMANDS[word];
    if (load) (await load())(program);
  }
  return program;
}

/** A write into a closed pipe ends the process quietly (exit 0), like `cat | head`. */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

exitQuietlyOnEpipe(process.stdout);
exitQuietlyOnEpipe(process.stderr);
await (await buildProgram(process.argv)).parseAsync(process.argv);
