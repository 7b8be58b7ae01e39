/**
 * The `dane-relay` command (commander). Each subcommand registers itself
 * from its own module (`registerServe(program)`, `registerQueue(program)`,
 * ...); this file only lists them. Usage errors exit 2.
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { registerServe } from './serve.ts';
import { registerQueue } from './queue.ts';
import { registerReport } from './report.ts';
import { registerTlsa } from './tlsa.ts';
import { registerLab } from './lab.ts';
import { registerCheck } from './check.ts';
import { registerMonitor } from './monitor.ts';

export function buildProgram(): Command {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  const program = new Command('dane-relay')
    .version(version)
    .description("SMTP outbound relay enforcing DANE (RFC 7672) with Postfix's TLS security levels")
    .showHelpAfterError()
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 || err.code === 'commander.helpDisplayed' ? 0 : 2);
    });
  const registrars: Array<(p: Command) => unknown> = [registerServe, registerQueue, registerReport, registerTlsa, registerLab, registerCheck, registerMonitor];
  for (const register of registrars) register(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
