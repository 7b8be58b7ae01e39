/**
 * Node-side handle on the tier-2 lab (test/interop/netns-lab.sh): a network
 * namespace with NSD serving signed/unsigned/bogus lab zones and a validating
 * Unbound at 127.0.0.1:53 whose trust anchor is the lab root key.
 *
 * Contract:
 * - `interopPrerequisites()` lists what is missing (root, tools) as readable
 *   strings; empty means the lab can run. Callers FAIL on a non-empty list
 *   (CI installs the tools), they do not skip.
 * - `startNetnsLab()` writes the caller's extra zone records, runs the script's
 *   `up` (bounded by a timeout) and returns a handle; on failure it runs
 *   `down` itself and rejects with the script's output.
 * - Everything started through the handle (`spawnInNs`) is tracked and killed
 *   by PID in `down()`, which then runs the script's `down` (namespace deleted,
 *   NSD/Unbound stopped). `down()` is idempotent. The working directory is
 *   removed unless `keepDir` (or env DRLAB_KEEP=1) asks to keep it.
 * - All traffic stays on loopback inside the namespace.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The lab script, relative to this file: <repo>/test/interop/netns-lab.sh. */
export const NETNS_LAB_SCRIPT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../test/interop/netns-lab.sh');
export const LAB_RESOLVER = { host: '127.0.0.1', port: 53 } as const;
export const LAB_NSD_ADDRESS = '127.0.0.53';

export const INTEROP_TOOLS = ['ip', 'ss', 'nsd', 'nsd-checkconf', 'unbound', 'unbound-checkconf', 'ldns-keygen', 'ldns-signzone', 'ldns-key2ds', 'drill'] as const;

export interface RunResult { code: number | null; stdout: string; stderr: string }

export interface NetnsLabOptions {
  /** Namespace name; default `drlab-<pid>-<random>`. */
  ns?: string;
  /** Extra records per zone (`good.test` → zone-file lines), appended before signing. */
  extraRecords?: Record<string, string>;
  /** Keep the working directory after `down()` (for debugging); default: env DRLAB_KEEP=1. */
  keepDir?: boolean;
  /** Timeout for `up`, ms; default 60 000. */
  upTimeoutMs?: number;
}

export interface NetnsLab {
  ns: string;
  dir: string;
  /** Output of the script's `up` (self-check line). */
  upOutput: string;
  /** Run a command inside the namespace to completion (bounded by `timeoutMs`, default 30 s). */
  run(cmd: string, args: string[], opts?: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** Start a long-running command inside the namespace; killed by PID in `down()`. */
  spawnInNs(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  down(): Promise<void>;
}

function onPath(tool: string): boolean {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => {
    try { accessSync(join(d, tool), constants.X_OK); return true; } catch { return false; }
  });
}

/** What prevents the lab from running here; empty when nothing does. */
export function interopPrerequisites(extraTools: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) problems.push('not running as root (ip netns needs it)');
  for (const t of [...INTEROP_TOOLS, ...extraTools]) if (!onPath(t)) problems.push(`missing tool: ${t}`);
  return problems;
}

/** Run a command to completion; never rejects (errors land in `code`/`stderr`). */
export function runCommand(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, cwd: opts.cwd, env: opts.env, maxBuffer: 16 << 20, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === null ? `\n${err.message}` : '') });
    });
  });
}

async function writeExtras(dir: string, extras: Record<string, string>): Promise<void> {
  await mkdir(join(dir, 'extra'), { recursive: true });
  for (const [zone, text] of Object.entries(extras)) {
    if (!/^[a-z0-9.-]+$/i.test(zone)) throw new Error(`bad zone name for extra records: ${zone}`);
    await writeFile(join(dir, 'extra', `${zone}.rr`), text.endsWith('\n') ? text : `${text}\n`);
  }
}

function killTracked(children: Set<ChildProcess>): Promise<void> {
  const waits = [...children].map((c) => new Promise<void>((done) => {
    if (c.exitCode !== null || c.signalCode !== null) { done(); return; }
    const timer = setTimeout(() => { c.kill('SIGKILL'); }, 3000);
    c.once('exit', () => { clearTimeout(timer); done(); });
    c.kill('SIGTERM');
  }));
  children.clear();
  return Promise.all(waits).then(() => undefined);
}

export async function startNetnsLab(opts: NetnsLabOptions = {}): Promise<NetnsLab> {
  const ns = opts.ns ?? `drlab-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const dir = await mkdtemp(join(tmpdir(), `${ns}-`));
  // Traversable (not listable) by others: Postfix's daemons run as `postfix`.
  await chmod(dir, 0o711);
  const children = new Set<ChildProcess>();
  let isDown = false;
  const down = async (): Promise<void> => {
    if (isDown) return;
    isDown = true;
    await killTracked(children);
    await runCommand('bash', [NETNS_LAB_SCRIPT, 'down', ns, dir], { timeoutMs: 60_000 });
    if (opts.keepDir ?? process.env.DRLAB_KEEP === '1') process.stderr.write(`netns-lab: kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  };
  await writeExtras(dir, opts.extraRecords ?? {});
  const up = await runCommand('bash', [NETNS_LAB_SCRIPT, 'up', ns, dir], { timeoutMs: opts.upTimeoutMs ?? 60_000 });
  if (up.code !== 0) {
    await down();
    throw new Error(`netns-lab up failed (exit ${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
  return {
    ns, dir, upOutput: up.stdout.trim(), down,
    run: (cmd, args, o = {}) => runCommand('ip', ['netns', 'exec', ns, cmd, ...args], o),
    spawnInNs: (cmd, args, o = {}) => {
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], o);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
  };
}
