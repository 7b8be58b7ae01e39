/**
 * Scaling figures (`--scaling`), dane-relay only:
 * 1. delivered messages/s with 1, 10 and 100 destination domains (one run
 *    each, same load otherwise);
 * 2. restart with a full queue: `queueMessages` messages written straight
 *    into the spool's `deferred/` in the queue's own format (queue-file.ts
 *    `encodeTail` after the content, next attempt in the past, as
 *    after an outage), then a relay is started on it: time until it listens,
 *    until the start-up scan is done (`daemon started` log line), until the
 *    first message reaches the sink, and until the queue is drained (or the
 *    timeout), with the delivery rate;
 * 3. RSS of the relay with `idleSessions` inbound sessions open and idle
 *    (each past greeting and EHLO).
 * Every step is bounded by the run timeout; every relay is stopped by pid.
 */
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { newQueueId } from '../../src/queue/queue-id.ts';
import { checksum, encodeTail } from '../../src/queue/queue-file.ts';
import type { QueueRecord } from '../../src/queue/record.ts';
import { buildMessage, messageId } from './load-gen.ts';
import { cpuOfTree, peakRss, rssOfTree } from './proc-stats.ts';
import { freePort, startRelayProcess, type RelayProcess } from './relay-process.ts';
import { formatTable } from './report.ts';
import { relayLauncher, runOnce, type BenchWorld } from './run.ts';
import { benchDomain } from './world.ts';

export interface ScalingOptions {
  queueMessages: number;
  idleSessions: number;
  size: number;
  sessions: number;
  timeoutMs: number;
  /** messages per domain-scaling run */
  messages: number;
  /** warm-up messages before each domain-scaling run */
  warmup: number;
}

export interface ScalingResult {
  domains: Array<{ domains: number; deliveredPerSec: number; tlsHandshakesPerMsg: number; dnsQueriesPerMsg: number; cpuSecondsPer1000: number; delivered: number; messages: number }>;
  queueRestart: { messages: number; writeSeconds: number; listenMs: number; scanDoneMs: number | null; firstDeliveryMs: number | null; delivered: number; drainedMs: number | null; deliveredPerSec: number; cpuSeconds: number; peakRssBytes: number };
  idleSessions: { sessions: number; opened: number; rssBeforeBytes: number; rssWithSessionsBytes: number; perSessionBytes: number };
  table: string;
}

type Log = (line: string) => void;

async function domainScaling(world: BenchWorld, o: ScalingOptions, log: Log): Promise<ScalingResult['domains']> {
  const out: ScalingResult['domains'] = [];
  const messages = o.messages;
  for (const domains of [1, 10, 100]) {
    const f = await runOnce(world, relayLauncher(world), { run: 100 + domains, messages, size: o.size, sessions: o.sessions, domains, timeoutMs: o.timeoutMs, warmup: o.warmup, client: 'own', reuse: true });
    log(`scaling: ${domains} domain(s): ${f.deliveredPerSec.toFixed(1)} delivered/s, ${f.delivered}/${messages}`);
    out.push({ domains, deliveredPerSec: f.deliveredPerSec, tlsHandshakesPerMsg: f.tlsHandshakesPerMsg, dnsQueriesPerMsg: f.dnsQueriesPerMsg, cpuSecondsPer1000: f.cpuSecondsPer1000, delivered: f.delivered, messages });
  }
  return out;
}

/** Writes `count` deferred messages in the spool format, due now; returns seconds spent. */
export async function fillSpool(spool: string, count: number, size: number, domains: number): Promise<number> {
  const t0 = Date.now();
  for (const d of ['tmp', 'incoming', 'active', 'deferred', 'hold', 'corrupt']) await mkdir(join(spool, d), { recursive: true });
  const base = Date.now() - 3_600_000;
  const past = new Date(Date.now() - 60_000);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const id = newQueueId(base, i); // a fixture: unique by its index, as a live spool's are by inode
      const rcpt = `user${i}@${benchDomain(i % domains)}`;
      const body = Buffer.from(buildMessage({ id: messageId('queued', i), from: 'bench@load.bench.test', to: rcpt, size }));
      const record: QueueRecord = {
        version: 1, id, sender: 'bench@load.bench.test', receivedAt: base + i, size: body.length, smtputf8: false, eightBit: false,
        attempts: 1, nextAttemptAt: past.getTime(),
        recipients: [{ address: rcpt, status: 'deferred', dsn: '4.4.1', diagnostic: 'bench: queued while the destination was down', attempts: 1, lastAttemptAt: base + i }],
      };
      await writeFile(join(spool, 'deferred', id), Buffer.concat([body, encodeTail(record, checksum(body))]));
      await utimes(join(spool, 'deferred', id), past, past);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  execFileSync('sync');
  return (Date.now() - t0) / 1000;
}

async function scanDoneAt(logFile: string): Promise<number | undefined> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.includes('"event":"start"'));
  if (!line) return undefined;
  const time = (JSON.parse(line) as { time?: number | string }).time;
  const ms = typeof time === 'string' ? Date.parse(time) : time;
  return ms === undefined || Number.isNaN(ms) ? undefined : ms;
}

async function queueRestart(world: BenchWorld, o: ScalingOptions, log: Log): Promise<ScalingResult['queueRestart']> {
  const dir = join(world.dir, 'scaling-queue');
  await mkdir(dir, { recursive: true });
  log(`scaling: writing ${o.queueMessages} queued messages`);
  const writeSeconds = await fillSpool(join(dir, 'spool'), o.queueMessages, o.size, 1);
  await world.sink.reset();
  world.resolver.resetCounters();
  const t0 = Date.now();
  const relay: RelayProcess = await startRelayProcess({ dir, listen: { host: '127.0.0.1', port: await freePort('127.0.0.1') }, resolver: world.resolverAddress, deliveryPort: world.sink.port, caFile: world.identity.certFile }, o.timeoutMs);
  const stop = (): Promise<void> => relay.stop();
  world.running.add(stop);
  try {
    const listenMs = Date.now() - t0;
    await world.sink.waitFor(1, o.timeoutMs);
    const first = world.sink.arrivals[0]?.t;
    const got = await world.sink.waitFor(o.queueMessages, Math.max(0, t0 + o.timeoutMs - Date.now()));
    const last = world.sink.arrivals.reduce((m, a) => Math.max(m, a.t), 0);
    const cpuSeconds = cpuOfTree(relay.pid);
    const peakRssBytes = peakRss(relay.pid);
    const scanDone = await scanDoneAt(relay.logFile);
    const drainedMs = got >= o.queueMessages ? last - t0 : null;
    return {
      messages: o.queueMessages, writeSeconds, listenMs, scanDoneMs: scanDone === undefined ? null : scanDone - t0,
      firstDeliveryMs: first === undefined ? null : first - t0, delivered: got, drainedMs,
      deliveredPerSec: first === undefined ? 0 : got / ((last - t0) / 1000), cpuSeconds, peakRssBytes,
    };
  } finally {
    world.running.delete(stop);
    await relay.stop();
  }
}

function openIdle(host: string, port: number, timeoutMs: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let stage = 0;
    const timer = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, timeoutMs);
    s.setEncoding('latin1');
    s.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    s.on('data', (d: string) => {
      if (stage === 0 && /^220 /m.test(d)) {
        stage = 1;
        s.write('EHLO idle.bench.test\r\n');
      } else if (stage === 1 && /^250 /m.test(d)) {
        stage = 2;
        clearTimeout(timer);
        resolve(s);
      }
    });
  });
}

async function idleSessions(world: BenchWorld, o: ScalingOptions, log: Log): Promise<ScalingResult['idleSessions']> {
  const dir = join(world.dir, 'scaling-idle');
  await mkdir(dir, { recursive: true });
  const listen = { host: '127.0.0.1', port: await freePort('127.0.0.1') };
  const relay = await startRelayProcess({ dir, listen, resolver: world.resolverAddress, deliveryPort: world.sink.port, caFile: world.identity.certFile, maxClients: o.idleSessions + 100 }, o.timeoutMs);
  const sockets: net.Socket[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const rssBeforeBytes = rssOfTree(relay.pid);
    for (let i = 0; i < o.idleSessions; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, o.idleSessions - i) }, () => openIdle(listen.host, listen.port, 10_000)));
      for (const s of batch) if (s) sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const rssWithSessionsBytes = rssOfTree(relay.pid);
    log(`scaling: ${sockets.length} idle sessions: RSS ${(rssBeforeBytes / 1048576).toFixed(1)} -> ${(rssWithSessionsBytes / 1048576).toFixed(1)} MiB`);
    return { sessions: o.idleSessions, opened: sockets.length, rssBeforeBytes, rssWithSessionsBytes, perSessionBytes: (rssWithSessionsBytes - rssBeforeBytes) / Math.max(1, sockets.length) };
  } finally {
    for (const s of sockets) s.destroy();
    await relay.stop();
  }
}

function scalingTable(r: Omit<ScalingResult, 'table'>): string {
  const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
  const sec = (ms: number | null): string => (ms === null || !Number.isFinite(ms) ? '-' : `${(ms / 1000).toFixed(2)} s`);
  const q = r.queueRestart;
  const rows = [
    ['scaling (dane-relay)', 'value'],
    ...r.domains.map((d) => [`delivered msg/s, ${d.domains} domain(s)`, `${d.deliveredPerSec.toFixed(1)} (TLS/msg ${d.tlsHandshakesPerMsg.toFixed(3)}, DNS/msg ${d.dnsQueriesPerMsg.toFixed(3)}, ${d.delivered}/${d.messages})`]),
    [`restart with ${q.messages} queued: listening`, sec(q.listenMs)],
    ['  start-up scan done (daemon started)', sec(q.scanDoneMs)],
    ['  first delivery', sec(q.firstDeliveryMs)],
    ['  queue drained', `${sec(q.drainedMs)} (${q.delivered} delivered, ${q.deliveredPerSec.toFixed(1)} msg/s, CPU ${q.cpuSeconds.toFixed(1)} s, peak RSS ${mib(q.peakRssBytes)})`],
    [`RSS with ${r.idleSessions.opened} idle inbound sessions`, `${mib(r.idleSessions.rssWithSessionsBytes)} (idle relay ${mib(r.idleSessions.rssBeforeBytes)}, ${(r.idleSessions.perSessionBytes / 1024).toFixed(1)} KiB/session)`],
  ];
  return `\n${formatTable(rows)}`;
}

export async function runScaling(world: BenchWorld, o: ScalingOptions, log: Log): Promise<ScalingResult> {
  const domains = await domainScaling(world, o, log);
  const idle = await idleSessions(world, o, log);
  const queue = await queueRestart(world, o, log);
  const r = { domains, queueRestart: queue, idleSessions: idle };
  return { ...r, table: scalingTable(r) };
}
