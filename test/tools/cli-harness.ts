/**
 * Runs a dane-relay subcommand in-process with captured output and exit status,
 * through the same commander registration main.ts uses.
 */
import { Command, CommanderError } from 'commander';
import { Readable } from 'node:stream';

export class Terminated extends Error {
  constructor(readonly code: number, readonly err: CommanderError) { super(`terminated ${code}`); }
}

export interface CliRun { code: number; stdout: string; stderr: string }
export interface HarnessIo {
  stdout: (s: string) => void; stderr: (s: string) => void; stdin: Readable;
  setExitCode: (c: number) => void; terminate: (c: number, e: CommanderError) => never;
}

export async function runCli(register: (p: Command, io: HarnessIo) => unknown, argv: string[], stdin: Readable = Readable.from([])): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const io: HarnessIo = {
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    stdin,
    setExitCode: (c) => { code = c; },
    terminate: (c, e) => { throw new Terminated(c, e); },
  };
  const program = new Command('dane-relay');
  program.exitOverride();
  register(program, io);
  try {
    await program.parseAsync(['node', 'dane-relay', ...argv]);
  } catch (e) {
    if (!(e instanceof Terminated)) throw e;
    code = e.code;
  }
  return { code, stdout, stderr };
}
