/**
 * dane-relay as a child process (`node bin/dane-relay.js serve --config
 * FILE`), so its CPU seconds and peak RSS can be read from /proc/PID.
 *
 * Contract:
 * - `benchRelayConfig()` is the configuration the bench runs with (written
 *   as JSON, which is YAML): DANE at the default level `dane`, the lab
 *   resolver, delivery to the sink's port, IPv4 only (the lab zones have A
 *   records only; Postfix gets `inet_protocols = ipv4` too), 20 sessions per
 *   destination (Postfix's `smtp_destination_concurrency_limit` default),
 *   log lines at info into `<dir>/relay.log`.
 * - The child runs with the node options of the shipped unit's ExecStart
 *   (`serviceNodeOptions()`), then `BENCH_RELAY_NODE_FLAGS` (profiling), and
 *   only from a dist/ at least as new as src/ (no tsx at run time); its
 *   environment is the bench's with the unit's `Environment=` assignments
 *   (`serviceEnvironment()`) over it, then `BENCH_RELAY_ENV` (`K=V K=V`, for
 *   an experiment) over those. `BENCH_RELAY_CONFIG` (a JSON object) is
 *   merged, key by key, over `benchRelayConfig()` (an experiment with a
 *   setting, e.g. `{"delivery":{"engine_thread":false}}`).
 * - `startRelayProcess()` resolves once the listener accepts connections, or
 *   rejects (child killed) when it exits or does not listen within the
 *   timeout. `stop()` sends SIGTERM, then SIGKILL after `killAfterMs`.
 * - `readRelayLog()` summarises the JSON log: TLS sessions by `tls.state`,
 *   DANE results, skipped hosts, deliveries by status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { distIsStale } from '../../bin/dist-freshness.js';

const DANE_RELAY = fileURLToPath(new URL('../../bin/dane-relay.js', import.meta.url));

export interface RelaySetup {
  dir: string;
  listen: { host: string; port: number };
  resolver: string;
  deliveryPort: number;
  caFile: string;
  maxClients?: number;
  /** Extra top-level keys merged over the generated config (e.g. scaling). */
  extra?: Record<string, unknown>;
}

export function benchRelayConfig(s: RelaySetup): Record<string, unknown> {
  return {
    myhostname: 'relay.bench.test',
    listen: [`${s.listen.host}:${s.listen.port}`],
    spool: join(s.dir, 'spool'),
    inbound: { max_clients: s.maxClients ?? 200 },
    dns: { resolvers: [s.resolver] },
    tls: { security_level: 'dane', ca_file: s.caFile },
    delivery: { port: s.deliveryPort, inet_protocols: 'ipv4' },
    queue: { concurrency: 100, destination_concurrency: 20 },
    log: { level: 'info', file: join(s.dir, 'relay.log') },
    ...s.extra,
  };
}

export interface RelayProcess {
  pid: number;
  configFile: string;
  logFile: string;
  /** ms from spawn until the listener accepted a connection */
  startMs: number;
  exited(): boolean;
  stop(killAfterMs?: number): Promise<void>;
}

/** A free TCP port on `host` (bound and released; fine on a lab loopback). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True once something accepts TCP connections at host:port. */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function waitListening(host: string, port: number, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp()) {
    if (await canConnect(host, port)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function stopChild(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * bin/dane-relay.js runs the sources through tsx when dist/ is older than
 * src/ (a development checkout): a benchmark would then measure the loader,
 * not the release. `npm run bench` builds first (prebench); a direct run
 * of bench.ts on a stale dist/ stops here.
 */
function assertBuilt(): void {
  if (distIsStale(fileURLToPath(new URL('../../', import.meta.url)))) throw new Error('dist/ is missing or older than src/: run `npm run build` (npm run bench does) so the release code is measured');
}

/**
 * The node options the shipped service starts the relay with (the ExecStart
 * line of systemd/dane-relay.service, between the node binary and the
 * script), so the bench measures the relay as it is installed.
 */
export function serviceNodeOptions(unitText = readFileSync(fileURLToPath(new URL('../../systemd/dane-relay.service', import.meta.url)), 'utf8')): string[] {
  const line = /^ExecStart=(\S+)\s+(.*?)\s*\S*dane-relay\.js serve\b/m.exec(unitText);
  if (!line) throw new Error('systemd/dane-relay.service: no ExecStart running dane-relay.js serve');
  return (line[2] ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The `Environment=` assignments of the shipped unit (systemd syntax: one or
 * more `K=V`, each optionally in double quotes), so the bench runs the relay
 * in the environment the service gives it.
 */
export function serviceEnvironment(unitText = readFileSync(fileURLToPath(new URL('../../systemd/dane-relay.service', import.meta.url)), 'utf8')): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitText.matchAll(/^Environment=(.*)$/gm)) assignInto(env, line[1] ?? '');
  return env;
}

/** `over` merged into `base`: objects key by key, anything else replaced. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

function assignInto(env: Record<string, string>, text: string): void {
  for (const m of text.matchAll(/"([^"]*)"|(\S+)/g)) {
    const word = m[1] ?? m[2] ?? '';
    const eq = word.indexOf('=');
    if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
  }
}

function relayEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...serviceEnvironment() };
  assignInto(env as Record<string, string>, process.env.BENCH_RELAY_ENV ?? '');
  return env;
}

export async function startRelayProcess(s: RelaySetup, startTimeoutMs = 60_000): Promise<RelayProcess> {
  assertBuilt();
  const configFile = join(s.dir, 'relay.yaml');
  const overrides = JSON.parse(process.env.BENCH_RELAY_CONFIG ?? '{}') as Record<string, unknown>;
  await writeFile(configFile, JSON.stringify(mergeConfig(benchRelayConfig(s), overrides), null, 2));
  const t0 = Date.now();
  const child = spawn(process.execPath, [...serviceNodeOptions(), ...(process.env.BENCH_RELAY_NODE_FLAGS ?? '').split(' ').filter(Boolean), DANE_RELAY, 'serve', '--config', configFile, '--grace', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: relayEnvironment() });
  const out = createWriteStream(join(s.dir, 'relay.stdio'));
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const ok = await waitListening(s.listen.host, s.listen.port, startTimeoutMs, exited);
  if (!ok) {
    await stopChild(child, 2000);
    const text = await readFile(join(s.dir, 'relay.stdio'), 'utf8').catch(() => '');
    throw new Error(`dane-relay did not start (exit ${child.exitCode ?? child.signalCode ?? 'none'}):\n${text.slice(-4000)}`);
  }
  return {
    pid: child.pid ?? 0,
    configFile,
    logFile: join(s.dir, 'relay.log'),
    startMs: Date.now() - t0,
    exited,
    stop: (killAfterMs = 8000) => stopChild(child, killAfterMs),
  };
}

export interface RelayLogSummary {
  tlsByState: Record<string, number>;
  daneResults: Record<string, number>;
  hostSkipped: number;
  deliveries: Record<string, number>;
  /** first few non-sent / non-Verified lines, for diagnosis */
  samples: string[];
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

export async function readRelayLog(file: string): Promise<RelayLogSummary> {
  const sum: RelayLogSummary = { tlsByState: {}, daneResults: {}, hostSkipped: 0, deliveries: {}, samples: [] };
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let e: { event?: string; status?: string; tls?: { state?: string }; dane?: { result?: string }; msg?: string };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue;
    }
    const note = (): void => {
      if (sum.samples.length < 5) sum.samples.push(e.msg ?? line.slice(0, 300));
    };
    if (e.event === 'tls') {
      bump(sum.tlsByState, e.tls?.state ?? 'unknown');
      bump(sum.daneResults, e.dane?.result ?? 'unknown');
      if (e.tls?.state !== 'Verified') note();
    } else if (e.event === 'host-skipped') {
      sum.hostSkipped++;
      note();
    } else if (e.event === 'delivery') {
      bump(sum.deliveries, e.status ?? 'unknown');
      if (e.status !== 'sent') note();
    }
  }
  return sum;
}
