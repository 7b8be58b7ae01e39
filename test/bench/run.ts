/**
 * One benchmark run and the lab world it runs in.
 *
 * World: the sink (own process, 127.0.0.2, port 25 inside the namespace or
 * ephemeral on plain loopback), the lab resolver with 100 signed
 * destination zones whose TLSA `3 1 1` pins the sink's key, and in netns
 * mode a forwarder on 127.0.0.1:53 (what /etc/resolv.conf names).
 *
 * Run: start a fresh MTA (dane-relay or Postfix), drive the warm-up load
 * (not measured: JIT compilation, process start-up, first TLS sessions) and
 * wait for it at the sink, zero the sink and resolver counters, read the
 * MTA's CPU, drive the measured load, wait until the sink
 * has every accepted message (bounded by the run's timeout), read CPU again,
 * stop the MTA, compute the figures (report.ts `RunFigures`).
 * Failure modes: an MTA that does not start rejects; a run that times out
 * returns figures with `timedOut` and what was delivered.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLabResolver, type LabResolver } from '../../src/lab/lab-resolver.ts';
import { startDnsForwarder, type DnsForwarder } from './dns-forward.ts';
import { runLoad, type LoadResult } from './load-gen.ts';
import { startPostfix } from './postfix-instance.ts';
import { cpuOfProcess, cpuOfTree, machineStealSeconds, peakRss, sampleTreePss } from './proc-stats.ts';
import { freePort, readRelayLog, startRelayProcess, type RelaySetup } from './relay-process.ts';
import { percentile, type ClientName, type MtaName, type RunFigures } from './report.ts';
import { spawnSink, type SinkProcess } from './sink-process.ts';
import { runSmtpSource } from './smtp-source.ts';
import { benchDomain, benchZones, createSinkIdentity, type SinkIdentity } from './world.ts';

export const SINK_HOST = '127.0.0.2';
export const MAX_DOMAINS = 100;

export interface BenchWorld {
  dir: string;
  inNetns: boolean;
  identity: SinkIdentity;
  sink: SinkProcess;
  resolver: LabResolver;
  /** What the MTAs are told: `127.0.0.1:PORT`, or `127.0.0.1:53` in the namespace. */
  resolverAddress: string;
  /** Stops of MTAs running now; `close()` (and the bench's watchdog) runs them. */
  running: Set<() => Promise<void>>;
  close(): Promise<void>;
}

export async function startWorld(o: { inNetns: boolean; keepDir?: boolean }): Promise<BenchWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-bench-'));
  // Traversable (not listable) by others: Postfix's daemons run as `postfix`.
  await chmod(dir, 0o711);
  const closers: Array<() => Promise<void>> = [async () => (o.keepDir ? undefined : rm(dir, { recursive: true, force: true }))];
  const running = new Set<() => Promise<void>>();
  const close = async (): Promise<void> => {
    for (const stop of [...running]) await stop().catch(() => undefined);
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const identity = await createSinkIdentity(dir);
    const sink = await spawnSink({ host: SINK_HOST, port: o.inNetns ? 25 : 0, certFile: identity.certFile, keyFile: identity.keyFile });
    closers.push(() => sink.close());
    const resolver = await startLabResolver({ zones: benchZones(MAX_DOMAINS, SINK_HOST, sink.port, identity.spkiSha256) });
    closers.push(() => resolver.close());
    let resolverAddress = resolver.address;
    if (o.inNetns) {
      const fwd: DnsForwarder = await startDnsForwarder({ host: '127.0.0.1', port: 53 }, { host: resolver.host, port: resolver.port });
      closers.push(() => fwd.close());
      resolverAddress = '127.0.0.1:53';
    }
    return { dir, inNetns: o.inNetns, identity, sink, resolver, resolverAddress, running, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface StartedMta {
  name: MtaName;
  /** root of the process tree whose CPU is counted */
  pid: number;
  listen: { host: string; port: number };
  startMs: number;
  /** peak RSS of the MTA during the run, bytes */
  peakRss(): number;
  tlsSessions(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export type MtaLauncher = (runDir: string) => Promise<StartedMta>;

export function relayLauncher(world: BenchWorld, tune: Partial<RelaySetup> = {}): MtaLauncher {
  return async (runDir) => {
    const listen = { host: '127.0.0.1', port: await freePort('127.0.0.1') };
    const relay = await startRelayProcess({ dir: runDir, listen, resolver: world.resolverAddress, deliveryPort: world.sink.port, caFile: world.identity.certFile, ...tune });
    return {
      name: 'dane-relay',
      pid: relay.pid,
      listen,
      startMs: relay.startMs,
      peakRss: () => peakRss(relay.pid),
      tlsSessions: async () => (await readRelayLog(relay.logFile)).tlsByState,
      stop: () => relay.stop(),
    };
  };
}

export function postfixLauncher(world: BenchWorld): MtaLauncher {
  return async (runDir) => {
    const port = await freePort('127.0.0.1');
    const pf = await startPostfix({ dir: runDir, smtpdPort: port, caFile: world.identity.certFile });
    // Postfix is many processes sharing libraries: sample the summed PSS of the tree.
    const sampler = sampleTreePss(pf.masterPid, 500);
    let peak = 0;
    return {
      name: 'postfix',
      pid: pf.masterPid,
      listen: { host: '127.0.0.1', port },
      startMs: pf.startMs,
      peakRss: () => (peak = Math.max(peak, sampler.stop())),
      tlsSessions: () => pf.tlsSessions(),
      stop: async () => {
        peak = Math.max(peak, sampler.stop());
        await pf.stop();
      },
    };
  };
}

export interface RunOptions {
  run: number;
  messages: number;
  size: number;
  sessions: number;
  domains: number;
  timeoutMs: number;
  /** Messages driven through the fresh MTA before the measured load (not measured; 0: none). */
  warmup: number;
  /** The load client: the bench's own (pipelined, raw sockets) or Postfix's smtp-source. */
  client: ClientName;
  /** Many messages per connection (smtp-source -d), or one connection per message. */
  reuse: boolean;
  /** Own client only: the measured load offered at this many msg/s (load-gen.ts `rate`); 0: unpaced. */
  rate?: number;
}

const recipientFor = (domains: number) => (seq: number): string => `user${seq}@${benchDomain(seq % domains)}`;

const SENDER = 'bench@load.bench.test';

/** One load of `messages` through the MTA with the run's client. */
function drive(listen: { host: string; port: number }, o: RunOptions, messages: number, tag: string, timeoutMs: number, rate = 0): Promise<LoadResult> {
  if (o.client === 'smtp-source') {
    if (o.domains !== 1) throw new Error('--client smtp-source sends to one recipient: use --domains 1');
    return runSmtpSource({ ...listen, sessions: o.sessions, messages, size: o.size, sender: SENDER, recipient: `user0@${benchDomain(0)}`, reuse: o.reuse, timeoutMs });
  }
  return runLoad({ ...listen, sessions: o.sessions, messages, size: o.size, tag, sender: SENDER, recipientFor: recipientFor(o.domains), timeoutMs, reuse: o.reuse, rate });
}

export async function runOnce(world: BenchWorld, launch: MtaLauncher, o: RunOptions): Promise<RunFigures> {
  const runDir = join(world.dir, `run-${o.run}-${Date.now()}`);
  await mkdir(runDir, { recursive: true });
  await world.sink.reset();
  const mta = await launch(runDir);
  let stopped = false;
  const stop = async (): Promise<void> => {
    world.running.delete(stop);
    if (!stopped) await mta.stop();
    stopped = true;
  };
  world.running.add(stop);
  try {
    const deadline = Date.now() + o.timeoutMs;
    const tag = `${mta.name}-${o.run}-${Date.now().toString(36)}`;
    let warmPlaintext = 0;
    if (o.warmup > 0) {
      const warm = await drive(mta.listen, o, o.warmup, `${tag}-warm`, o.timeoutMs);
      await world.sink.waitFor(warm.acceptedCount, Math.max(0, deadline - Date.now()));
      warmPlaintext = (await world.sink.stats()).plaintextMessages;
      await world.sink.reset();
    }
    world.resolver.resetCounters();
    const cpu0 = cpuOfTree(mta.pid);
    const sinkCpu0 = cpuOfProcess(world.sink.pid);
    const benchCpu0 = process.cpuUsage();
    const steal0 = machineStealSeconds();
    const wall0 = performance.now();
    const load = await drive(mta.listen, o, o.messages, tag, o.timeoutMs, o.rate ?? 0);
    await world.sink.waitFor(load.acceptedCount, Math.max(0, deadline - Date.now()));
    const stolenCpuShare = (machineStealSeconds() - steal0) / (((performance.now() - wall0) / 1000) * availableParallelism());
    const cpu = cpuOfTree(mta.pid) - cpu0;
    const benchCpu = process.cpuUsage(benchCpu0);
    const harness = { sink: cpuOfProcess(world.sink.pid) - sinkCpu0, bench: (benchCpu.user + benchCpu.system) / 1e6 };
    const dnsQueries = world.resolver.queryCount();
    const sinkStats = await world.sink.stats();
    const figures = computeFigures(mta.name, o, load, world.sink.arrivals, cpu, dnsQueries, sinkStats);
    figures.peakRssBytes = mta.peakRss();
    figures.harnessCpuSeconds = harness;
    figures.stolenCpuShare = stolenCpuShare;
    figures.warmup = o.warmup;
    figures.plaintextArrivals += warmPlaintext;
    await stop();
    figures.tlsSessionsByState = await mta.tlsSessions();
    return figures;
  } finally {
    await stop();
  }
}

/**
 * Per-run figures. The own client gives per-message timings (matched to
 * arrivals by Message-ID: accept and end-to-end latency); smtp-source gives
 * only its count and duration, so every arrival after the warm-up counts,
 * and its latency figure is the time per message per session.
 */
export function computeFigures(
  mta: MtaName,
  o: RunOptions,
  load: LoadResult,
  arrivals: SinkProcess['arrivals'],
  cpuSeconds: number,
  dnsQueries: number,
  sink: { handshakes: number; resumed: number; plaintextMessages: number },
): RunFigures {
  const timed = load.accepted.length > 0;
  const acceptedAt = new Map(load.accepted.map((m) => [m.id, m.acceptedAt]));
  const seen = new Set<string>();
  const e2e: number[] = [];
  let lastArrival = load.startedAt;
  let delivered = 0;
  for (const a of arrivals) {
    if (!timed) {
      delivered++;
      lastArrival = Math.max(lastArrival, a.t);
      continue;
    }
    const t250 = acceptedAt.get(a.id);
    if (t250 === undefined || seen.has(a.id)) continue;
    seen.add(a.id);
    delivered++;
    e2e.push(a.t - t250);
    lastArrival = Math.max(lastArrival, a.t);
  }
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const acceptLat = sorted(load.accepted.map((m) => m.acceptedAt - m.dotAt));
  const greet = sorted(load.greetingMs);
  e2e.sort((a, b) => a - b);
  const lastAccept = timed ? load.accepted.reduce((t, m) => Math.max(t, m.acceptedAt), load.startedAt) : load.endedAt;
  return {
    mta, client: o.client, reuse: o.reuse, run: o.run, messages: o.messages, size: o.size, sessions: o.sessions, domains: o.domains,
    accepted: load.acceptedCount, delivered, rejected: load.rejected,
    timedOut: load.timedOut || delivered < load.acceptedCount,
    acceptedPerSec: load.acceptedCount / ((lastAccept - load.startedAt) / 1000),
    deliveredPerSec: delivered / ((lastArrival - load.startedAt) / 1000),
    cpuSeconds, cpuSecondsPer1000: (cpuSeconds / Math.max(1, delivered)) * 1000,
    greetingP50Ms: percentile(greet, 50), greetingP99Ms: percentile(greet, 99),
    acceptP50Ms: percentile(acceptLat, 50), acceptP99Ms: percentile(acceptLat, 99),
    timePerMessageMs: ((lastAccept - load.startedAt) * o.sessions) / Math.max(1, load.acceptedCount),
    e2eP50Ms: percentile(e2e, 50), e2eP99Ms: percentile(e2e, 99),
    tlsHandshakesPerMsg: sink.handshakes / Math.max(1, delivered), tlsResumed: sink.resumed,
    dnsQueriesPerMsg: dnsQueries / Math.max(1, delivered),
    peakRssBytes: 0, plaintextArrivals: sink.plaintextMessages, tlsSessionsByState: {}, harnessCpuSeconds: { sink: 0, bench: 0 },
    stolenCpuShare: NaN, errors: load.errors.slice(0, 10),
  };
}
