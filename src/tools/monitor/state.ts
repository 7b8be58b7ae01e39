/**
 * The monitor's state file: the last observation per target (JSON).
 *
 * Contract: `loadState` of a missing file is an empty state; a file that
 * does not parse or has the wrong shape is an error naming the file (the
 * caller exits 2 and does NOT overwrite it: nothing is lost). `saveState`
 * writes a temporary file in the same directory, fsyncs it, renames it over
 * the old one and fsyncs the directory, so a crash leaves the old or the new
 * state, never half of one.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Observation } from './observe.ts';

export interface MonitorState {
  version: 1;
  targets: Record<string, Observation>;
}

export class StateFileError extends Error {}

function isObservation(v: unknown): v is Observation {
  const o = v as Partial<Observation> | null;
  return typeof o === 'object' && o !== null && typeof o.target === 'string' && typeof o.verdict === 'string' && Array.isArray(o.warnings);
}

export async function loadState(file: string): Promise<MonitorState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, targets: {} };
    throw new StateFileError(`cannot read state file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(`state file ${file} is not JSON (${(err as Error).message}); move it away to start afresh`);
  }
  const s = parsed as Partial<MonitorState>;
  if (s?.version !== 1 || typeof s.targets !== 'object' || s.targets === null || !Object.values(s.targets).every(isObservation)) {
    throw new StateFileError(`state file ${file} has an unknown shape; move it away to start afresh`);
  }
  return s as MonitorState;
}

/** Atomic replace: tmp → fsync → rename → fsync dir. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try { await dir.sync(); } finally { await dir.close(); }
}

export async function saveState(file: string, state: MonitorState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}
