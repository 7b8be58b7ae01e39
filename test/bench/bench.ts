/**
 * `npm run bench` — dane-relay's throughput benchmark (see test/bench/README.md).
 *
 *   npm run bench -- [--messages N] [--size BYTES] [--sessions C] [--runs R]
 *                    [--warmup N] [--domains D] [--timeout SECONDS] [--compare-postfix]
 *                    [--client own|smtp-source ...] [--reuse] [--rate MSG_PER_S]
 *                    [--scaling] [--json FILE] [--keep]
 *
 * --client: the load client, repeatable (default: own; with
 * --compare-postfix: smtp-source and own). --reuse: many messages per
 * connection (smtp-source -d; the own client's long pipelined sessions);
 * without it every message opens its own connection. Each client is one
 * workload: its own table, summaries and ratios. --rate (own client only):
 * the measured load is offered open-loop at that many messages per second
 * over the C sessions, for latency below saturation (warm-up unpaced).
 *
 * Starts the lab (resolver, sink MX whose TLSA 3 1 1 matches), then for each
 * run a fresh relay, drives a warm-up load (--warmup messages, not measured),
 * then N messages of S bytes over C sessions, waits for the sink to receive
 * all of them, and prints a readable table followed by
 * ONE JSON object on the last line of stdout. Progress goes to stderr.
 *
 * --compare-postfix: re-runs itself inside a network namespace it creates
 * (netns.ts) and alternates dane-relay and Postfix runs (A B A B ...); the
 * namespace is deleted at the end, whatever happened.
 * --scaling: adds the scaling figures (scaling.ts).
 *
 * Bounded: each run has a hard timeout; a watchdog stops everything (by
 * pid) if the whole bench overruns. Exit status 0 when every message of
 * every run was delivered over verified TLS, 1 otherwise, 2 on a usage or
 * start-up error.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createNetns, deleteNetns, netnsName, runInNetns } from './netns.ts';
import { formatRun, formatTable, ratios, summarise, tableRows, workloadName, type ClientName, type MtaSummary, type Ratios, type RunFigures } from './report.ts';
import { postfixLauncher, relayLauncher, runOnce, startWorld, type BenchWorld, type MtaLauncher } from './run.ts';
import { runScaling, type ScalingOptions } from './scaling.ts';

const BENCH_FILE = fileURLToPath(import.meta.url);
const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));

interface BenchOptions {
  messages: number;
  size: number;
  sessions: number;
  runs: number;
  domains: number;
  timeoutMs: number;
  warmup: number;
  comparePostfix: boolean;
  clients: ClientName[];
  reuse: boolean;
  rate: number;
  scaling: boolean;
  json?: string;
  keep: boolean;
  inNetns?: string;
  scalingOptions: ScalingOptions;
}

function parse(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string', default: '5000' },
      size: { type: 'string', default: '2000' },
      sessions: { type: 'string', default: '20' },
      runs: { type: 'string', default: '3' },
      domains: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '300' },
      warmup: { type: 'string', default: '8000' },
      'compare-postfix': { type: 'boolean', default: false },
      client: { type: 'string', multiple: true },
      reuse: { type: 'boolean', default: false },
      rate: { type: 'string', default: '0' },
      scaling: { type: 'boolean', default: false },
      'queue-messages': { type: 'string', default: '100000' },
      'idle-sessions': { type: 'string', default: '1000' },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'in-netns': { type: 'string' },
    },
  });
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer from ${min} to ${max}, got ${v}`);
    return n;
  };
  return {
    messages: int('messages', values.messages, 1, 10_000_000),
    size: int('size', values.size, 200, 50_000_000),
    sessions: int('sessions', values.sessions, 1, 1000),
    runs: int('runs', values.runs, 1, 100),
    domains: int('domains', values.domains, 1, 100),
    timeoutMs: int('timeout', values.timeout, 1, 86_400) * 1000,
    warmup: int('warmup', values.warmup, 0, 10_000_000),
    comparePostfix: values['compare-postfix'] ?? false,
    clients: clientsOf(values.client, values['compare-postfix'] ?? false),
    reuse: values.reuse ?? false,
    rate: int('rate', values.rate, 0, 1_000_000),
    scaling: values.scaling ?? false,
    json: values.json,
    keep: values.keep ?? false,
    inNetns: values['in-netns'],
    scalingOptions: {
      queueMessages: int('queue-messages', values['queue-messages'], 1, 10_000_000),
      idleSessions: int('idle-sessions', values['idle-sessions'], 1, 20_000),
      size: int('size', values.size, 200, 50_000_000),
      messages: int('messages', values.messages, 1, 10_000_000),
      sessions: int('sessions', values.sessions, 1, 1000),
      timeoutMs: int('timeout', values.timeout, 1, 86_400) * 1000,
      warmup: int('warmup', values.warmup, 0, 10_000_000),
    },
  };
}

function clientsOf(given: string[] | undefined, comparePostfix: boolean): ClientName[] {
  if (!given || given.length === 0) return comparePostfix ? ['smtp-source', 'own'] : ['own'];
  const bad = given.find((c) => c !== 'own' && c !== 'smtp-source');
  if (bad !== undefined) throw new Error(`--client: expected own or smtp-source, got ${bad}`);
  return [...new Set(given as ClientName[])];
}

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** Outer half of --compare-postfix: namespace around a re-run of this file. */
async function runOutside(o: BenchOptions, argv: string[]): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('--compare-postfix needs root (ip netns, a private Postfix instance)');
  const name = netnsName();
  await createNetns(name);
  try {
    log(`network namespace ${name} created`);
    return await runInNetns(name, [process.execPath, RUN_TS, BENCH_FILE, ...argv, '--in-netns', name], watchdogMs(o) + 60_000);
  } finally {
    await deleteNetns(name);
    log(`network namespace ${name} deleted`);
  }
}

function watchdogMs(o: BenchOptions): number {
  const runs = (o.comparePostfix ? o.runs * 2 : o.runs) * o.clients.length;
  return runs * (o.timeoutMs + 120_000) + (o.scaling ? 6 * o.timeoutMs + 900_000 : 0) + 120_000;
}

/** The run order per client: A A A, or A B A B … with Postfix. */
function schedule(o: BenchOptions, world: BenchWorld): Array<{ launcher: MtaLauncher; run: number; client: ClientName }> {
  const relay = relayLauncher(world);
  const postfix = o.comparePostfix ? postfixLauncher(world) : undefined;
  const out: Array<{ launcher: MtaLauncher; run: number; client: ClientName }> = [];
  for (const client of o.clients) {
    for (let i = 1; i <= o.runs; i++) {
      out.push({ launcher: relay, run: i, client });
      if (postfix) out.push({ launcher: postfix, run: i, client });
    }
  }
  return out;
}

interface Workload {
  workload: string;
  client: ClientName;
  reuse: boolean;
  summaries: MtaSummary[];
  ratios?: Ratios;
}

function workloads(o: BenchOptions, runs: RunFigures[]): Workload[] {
  return o.clients.map((client) => {
    const mine = runs.filter((r) => r.client === client);
    const summaries: MtaSummary[] = [summarise('dane-relay', mine.filter((r) => r.mta === 'dane-relay'))];
    if (o.comparePostfix) summaries.push(summarise('postfix', mine.filter((r) => r.mta === 'postfix')));
    const [relay, postfix] = summaries;
    const r = relay && postfix ? ratios(relay, postfix) : undefined;
    return { workload: workloadName(client, o.reuse, o.sessions, client === 'own' ? o.rate : 0), client, reuse: o.reuse, summaries, ...(r ? { ratios: r } : {}) };
  });
}

/** Runs every scheduled run (and the scaling figures), then prints and saves the result. */
async function measure(o: BenchOptions, world: BenchWorld): Promise<number> {
  log(`lab up in ${world.dir}: sink ${world.sink.host}:${world.sink.port}, resolver ${world.resolverAddress}${o.inNetns ? `, namespace ${o.inNetns}` : ''}`);
  const runs: RunFigures[] = [];
  for (const step of schedule(o, world)) {
    const fig = await runOnce(world, step.launcher, { run: step.run, messages: o.messages, size: o.size, sessions: o.sessions, domains: o.domains, timeoutMs: o.timeoutMs, warmup: o.warmup, client: step.client, reuse: o.reuse, ...(step.client === 'own' && o.rate > 0 ? { rate: o.rate } : {}) });
    log(formatRun(fig));
    runs.push(fig);
  }
  const loads = workloads(o, runs);
  const summaries = loads.flatMap((w) => w.summaries);
  const scaling = o.scaling ? await runScaling(world, o.scalingOptions, log) : undefined;
  const ok = summaries.every((s) => s.allDelivered && s.allVerified);
  const result = {
    bench: 'dane-relay',
    load: { messages: o.messages, size: o.size, sessions: o.sessions, runs: o.runs, domains: o.domains, warmup: o.warmup, clients: o.clients, reuse: o.reuse, rate: o.rate },
    workloads: loads, summaries, ratios: loads[0]?.ratios, runs, scaling, ok,
    notes: [
      'rates: messages / (last event − first connect of the run); CPU: user+sys of the MTA process tree from /proc, reaped children included',
      'TLS handshakes and DNS queries are counted at the sink and the lab resolver; Postfix peak memory is summed PSS',
      'greeting and accept latency come from the own client only; smtp-source reports time per message per session',
    ],
  };
  process.stdout.write(`\nload: ${o.messages} messages x ${o.size} bytes, ${o.sessions} sessions, ${o.domains} domain(s), after ${o.warmup} warm-up messages per run\n`);
  for (const w of loads) process.stdout.write(`\nworkload: ${w.workload}\n${formatTable(tableRows(w.summaries, w.ratios))}`);
  if (scaling) process.stdout.write(scaling.table);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (o.json) await writeFile(o.json, JSON.stringify(result, null, 2));
  return ok ? 0 : 1;
}

/** The lab around `measure`, with a watchdog and signal handling that stop everything by pid. */
async function runBench(o: BenchOptions): Promise<number> {
  const world = await startWorld({ inNetns: o.inNetns !== undefined, keepDir: o.keep });
  const watchdog = setTimeout(() => {
    log('watchdog: the bench overran its time budget, stopping everything');
    void world.close().finally(() => process.exit(2));
  }, watchdogMs(o));
  watchdog.unref();
  const onSignal = (): void => void world.close().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await measure(o, world);
  } finally {
    clearTimeout(watchdog);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await world.close();
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let o: BenchOptions;
  try {
    o = parse(argv);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  if (o.comparePostfix && o.inNetns === undefined) return runOutside(o, argv);
  return runBench(o);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
