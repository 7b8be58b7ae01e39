/**
 * `dane-relay lab [--json] [--scenario NAME] [--keep] [--timeout SECONDS] [--list]`
 * — runs the DANE scenario matrix (src/lab/) against a real relay on
 * loopback and prints `scenario | expected | observed | result`.
 *
 * Contract: exit status 0 only when every scenario passes; 1 when any fails;
 * 2 for a usage or start-up error (unknown scenario, a port that cannot be
 * bound). `--keep` leaves everything running after the run, prints the
 * addresses, and stops cleanly on SIGINT/SIGTERM. Output and exit go through
 * an injectable `LabCliIo` so tests can run the real command in-process.
 */
import type { Command } from 'commander';
import { startLab } from '../lab/lab-runner.ts';
import type { Lab } from '../lab/lab-runner.ts';
import { formatLabAddresses } from '../lab/lab-info.ts';
import { formatTable, toJsonReport } from '../lab/report-table.ts';
import { allScenarios, findScenario } from '../lab/scenarios.ts';
import type { Scenario } from '../lab/scenario-types.ts';
import { collect } from './args.ts';

export interface LabCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  setExitCode: (code: number) => void;
  /** Resolves when the user asks a kept lab to stop (SIGINT/SIGTERM by default). */
  waitForStop: () => Promise<void>;
}

export function labProcessIo(): LabCliIo {
  return {
    stdout: (s) => { process.stdout.write(s); },
    stderr: (s) => { process.stderr.write(s); },
    setExitCode: (code) => { process.exitCode = code; },
    waitForStop: () => new Promise((resolve) => {
      const done = (): void => { process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    }),
  };
}

export interface LabFlags { json?: boolean; scenario?: string[]; keep?: boolean; timeout?: string; list?: boolean }

function selectScenarios(names: string[] | undefined): Scenario[] | string {
  const all = allScenarios();
  if (!names || names.length === 0) return all;
  const picked: Scenario[] = [];
  for (const n of names) {
    const s = findScenario(n, all);
    if (!s) return `unknown scenario "${n}" (see dane-relay lab --list)`;
    if (!picked.includes(s)) picked.push(s);
  }
  return picked;
}

function listScenarios(io: LabCliIo): void {
  for (const s of allScenarios()) io.stdout(`${s.name.padEnd(36)} ${s.rule.padEnd(12)} ${s.description}\n`);
}

/** The command's work; returns the exit status. */
export async function runLabCommand(flags: LabFlags, io: LabCliIo): Promise<number> {
  if (flags.list) { listScenarios(io); return 0; }
  const scenarios = selectScenarios(flags.scenario);
  if (typeof scenarios === 'string') { io.stderr(`dane-relay lab: ${scenarios}\n`); return 2; }
  const timeoutSec = flags.timeout === undefined ? 60 : Number(flags.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0 || timeoutSec > 3600) { io.stderr('dane-relay lab: --timeout must be 1..3600 seconds\n'); return 2; }
  let lab: Lab;
  try {
    lab = await startLab({ scenarios, timeoutMs: timeoutSec * 1000 });
  } catch (err) {
    io.stderr(`dane-relay lab: could not start the lab: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const results = await lab.run();
    io.stdout(flags.json ? JSON.stringify(toJsonReport(results), null, 2) + '\n' : formatTable(results));
    const code = results.every((r) => r.pass) ? 0 : 1;
    if (flags.keep) {
      io.stderr(formatLabAddresses(lab) + '\nlab kept running; press Ctrl-C to stop it\n');
      await io.waitForStop();
    }
    return code;
  } finally {
    await lab.close();
  }
}

export function registerLab(program: Command, io: LabCliIo = labProcessIo()): Command {
  return program
    .command('lab')
    .description('run the DANE scenario matrix against a relay on loopback and print expected vs observed outcomes')
    .option('--json', 'print the results as JSON')
    .option('--scenario <name>', 'run only this scenario (name, name without number, or number); repeatable', collect)
    .option('--keep', 'leave the lab running after the run and print its addresses (Ctrl-C stops it)')
    .option('--timeout <seconds>', 'deadline for all outcomes of the run', '60')
    .option('--list', 'list the scenarios and exit')
    .action(async (flags: LabFlags) => {
      io.setExitCode(await runLabCommand(flags, io));
    });
}
