/**
 * Micro-benchmark of the outbound path alone: CPU per message of the relay's
 * delivery engine (`createDeliverer`: route, DNS cache, DANE verification,
 * session pool, nodemailer, delivery log), against the cost of nodemailer's
 * `SMTPConnection` by itself sending the same messages to the same server.
 * No listener, no queue, no second thread.
 *
 *   node bin/run-ts.js test/bench/micro-outbound.ts [--engine relay|nodemailer] [--messages N] [--size BYTES]
 *        [--sessions C] [--warmup W] [--connection-reuse R] [--timeout SECONDS]
 *
 * Both engines deliver to the benchmark's TLS sink (test/bench/sink-process.ts,
 * its own process, so not counted), C deliveries at a time, one message of
 * `--size` bytes (held in memory, as the relay holds messages up to 64 KiB)
 * and one recipient each.
 * - `--engine relay`: the bench's relay configuration (relay-process.ts),
 *   DANE level, TLSA `3 1 1` from the lab resolver (in this process; after
 *   the warm-up every lookup is a cache hit), JSON log to a file. Sessions are
 *   reused as the relay reuses them: up to R messages each
 *   (`delivery.connection_reuse.max_messages`, default 100; 1 = a new
 *   connection, STARTTLS and verification for every message, as for mail to
 *   many different domains).
 * - `--engine nodemailer`: C `SMTPConnection`s with STARTTLS (certificate
 *   checked against the sink's CA file), each sending its messages one after
 *   the other and reconnecting every R messages, as the relay's pool
 *   does; no DNS, no DANE, no log.
 * The difference between the two is what the relay's own outbound code costs
 * per message on top of its SMTP client.
 * Prints ONE JSON line: CPU seconds per 1,000 messages (this process: user
 * and system), msg/s, wall time. Bounded: `--timeout` seconds (120).
 * Interleave runs of the two engines (A B A B …) on a busy machine.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { readFile } from 'node:fs/promises';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import type { DeliveryJob, RecipientOutcome } from '../../src/queue/deliverer.ts';
import { buildMessage } from './load-gen.ts';
import { benchRelayConfig } from './relay-process.ts';
import { SINK_HOST, startWorld } from './run.ts';
import { benchDomain } from './world.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'relay' },
    messages: { type: 'string', default: '5000' },
    size: { type: 'string', default: '2000' },
    sessions: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3000' },
    timeout: { type: 'string', default: '120' },
    'connection-reuse': { type: 'string', default: '100' },
  },
});
const N = Number(values.messages);
const C = Number(values.sessions);
const WARMUP = Number(values.warmup);
const REUSE = Number(values['connection-reuse']);

/** Sends one message at a time; a new delivery each call. */
type Send = (i: number) => Promise<void>;

function message(i: number): Buffer {
  return Buffer.from(buildMessage({ id: `<m${i}@bench.test>`, from: 'sender@src.test', to: `user${i}@${benchDomain(0)}`, size: Number(values.size) }));
}

async function relayEngine(dir: string, resolver: string, port: number, caFile: string): Promise<{ send: Send; close(): Promise<void> }> {
  const base = benchRelayConfig({ dir, listen: { host: '127.0.0.1', port: 25 }, resolver, deliveryPort: port, caFile });
  const config = parseConfig({ ...base, delivery: { ...(base['delivery'] as object), connection_reuse: { max_messages: REUSE } } });
  const logger = createLogger(config.log);
  const engine = await createDeliverer(config, { logger });
  const send: Send = async (i) => {
    const body = message(i);
    const job: DeliveryJob = {
      queueId: `1A${i.toString(16).toUpperCase().padStart(15, '0')}`, sender: 'sender@src.test', domain: benchDomain(0),
      recipients: [`user${i}@${benchDomain(0)}`], size: body.length, smtputf8: false, eightBit: false, receivedAt: Date.now(), attempt: 1,
      openBody: () => body,
    };
    const out: RecipientOutcome[] = await engine.deliver(job);
    if (out[0]?.status !== 'sent') throw new Error(`relay engine: ${out[0]?.diagnostic ?? 'no outcome'}`);
  };
  return { send, close: () => engine.close() };
}

function nodemailerEngine(port: number, ca: string): { send: Send; close(): Promise<void> } {
  interface Slot { conn: SMTPConnection | null; uses: number }
  const free: Slot[] = Array.from({ length: C }, () => ({ conn: null, uses: 0 }));
  const all = [...free];
  const connect = (): Promise<SMTPConnection> => new Promise((resolve, reject) => {
    const conn = new SMTPConnection({ host: SINK_HOST, port, requireTLS: true, name: 'relay.bench.test', tls: { ca, servername: 'mx.bench.test' } });
    conn.once('error', reject);
    conn.connect(() => resolve(conn));
  });
  const send: Send = async (i) => {
    const slot = free.pop();
    if (!slot) throw new Error('more deliveries at once than --sessions');
    try {
      if (!slot.conn || slot.uses >= REUSE) {
        slot.conn?.quit();
        slot.conn = await connect();
        slot.uses = 0;
      }
      slot.uses++;
      const conn = slot.conn;
      await new Promise<void>((resolve, reject) => {
        conn.send({ from: 'sender@src.test', to: [`user${i}@${benchDomain(0)}`] }, message(i), (err) => (err ? reject(err) : resolve()));
      });
    } finally {
      free.push(slot);
    }
  };
  return { send, close: async () => { for (const s of all) s.conn?.quit(); } };
}

/** `count` deliveries, C at a time. */
async function drive(send: Send, from: number, count: number): Promise<void> {
  let next = from;
  const end = from + count;
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < end) await send(next++);
  }));
}

async function main(): Promise<void> {
  if (values.engine !== 'relay' && values.engine !== 'nodemailer') throw new Error('--engine: relay or nodemailer');
  const timer = setTimeout(() => {
    process.stderr.write('micro-outbound: timed out\n');
    process.exit(2);
  }, Number(values.timeout) * 1000);
  const world = await startWorld({ inNetns: false });
  try {
    const engine = values.engine === 'relay'
      ? await relayEngine(join(world.dir, 'relay'), world.resolverAddress, world.sink.port, world.identity.certFile)
      : nodemailerEngine(world.sink.port, await readFile(world.identity.certFile, 'utf8'));
    await drive(engine.send, 0, WARMUP);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await drive(engine.send, WARMUP, N);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    await engine.close();
    const cpuS = (cpu.user + cpu.system) / 1e6;
    process.stdout.write(`${JSON.stringify({ engine: values.engine, messages: N, sessions: C, connectionReuse: REUSE, size: Number(values.size), warmup: WARMUP, cpuS, userS: cpu.user / 1e6, sysS: cpu.system / 1e6, cpuSPer1000Messages: (cpuS / N) * 1000, msgPerSec: N / (wallMs / 1000), wallMs })}\n`);
  } finally {
    clearTimeout(timer);
    await world.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`micro-outbound: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
