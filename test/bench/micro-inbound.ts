/**
 * Micro-benchmark of the inbound path alone, in one process: CPU per
 * connection and per message of `InboundServer` (the relay's real
 * smtp-server set-up, spool and Received header), for before/after
 * comparisons of a change to that path. No DNS, no delivery.
 *
 *   node bin/run-ts.js test/bench/micro-inbound.ts [--connections N] [--per-connection M] [--size BYTES] [--sessions C]
 *        [--no-pipelining] [--client own|smtp-source] [--server relay|smtp-server] [--spool disk|memory]
 *        [--dir DIR] [--timeout SECONDS]
 *
 * `--client own` (default): C client sessions in this process open N
 * connections in all, each: 220, EHLO, M messages (MAIL+RCPT+DATA
 * pipelined, body, 250), QUIT (221). With M = 0 only the connection cost is
 * measured. `--no-pipelining`: one command per write, each waiting for its
 * reply (as `smtp-source` does). The CPU figure is this process's: server
 * and client together (the client's share is the same for both sides of a
 * comparison).
 * `--client smtp-source`: Postfix's `smtp-source -s C -m N -l SIZE` (one
 * message per connection; `--per-connection` above 1 adds `-d`, one
 * connection per session) in its own process, so the CPU figure is the
 * server's alone.
 * `--server relay` (default): the relay's `InboundServer`. `--server
 * smtp-server`: the library's floor, the relay's smtp-server subclass
 * (`PromptGreetingServer`, no greeting delay; AUTH and STARTTLS off, the
 * same client limit, a 10 MiB size limit) with a data handler that only
 * drains the message: no hooks, no Received header, no spool (`--spool` is
 * then ignored). The relay's own inbound code costs the difference.
 * `--spool disk` (default): the relay's spool in a temp dir under `--dir`
 * (tmpdir(); a tmpfs such as /dev/shm takes the disk out); each queued
 * message is then removed, as delivery would. `--spool memory`: a spool
 * that stores nothing, so the spool's share is the difference.
 * Prints ONE JSON line: CPU seconds per 1,000 connections and per 1,000
 * messages, and the wall time. Bounded: `--timeout` seconds (60).
 * Interleave before/after runs (A B A B …) on a busy machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../src/config/load.ts';
import { PromptGreetingServer } from '../../src/inbound/prompt-greeting.ts';
import { InboundServer } from '../../src/inbound/server.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { QueuedHint } from '../../src/queue/delivery-pass.ts';
import { Spool, type MessageWriter } from '../../src/queue/spool.ts';
import { until } from '../queue/helpers.ts';
import { buildMessage } from './load-gen.ts';
import { runSmtpSource } from './smtp-source.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '3000' },
    'per-connection': { type: 'string', default: '1' },
    size: { type: 'string', default: '2000' },
    sessions: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '60' },
    'no-pipelining': { type: 'boolean', default: false },
    client: { type: 'string', default: 'own' },
    spool: { type: 'string', default: 'disk' },
    server: { type: 'string', default: 'relay' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const N = Number(values.connections);
const M = Number(values['per-connection']);
const C = Number(values.sessions);
const body = buildMessage({ id: '<micro@bench.test>', from: 'a@src.test', to: 'b@dst.test', size: Number(values.size) }) + '.\r\n';

/** One client connection: waits for `n` complete replies after each write. */
function converse(port: number, steps: Array<[string | null, number]>): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    s.setEncoding('latin1');
    let buf = '';
    let i = 0;
    let want = steps[0]?.[1] ?? 0;
    s.on('data', (d: string) => {
      buf += d;
      let eol: number;
      while ((eol = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, eol);
        buf = buf.slice(eol + 2);
        if (line[3] !== ' ') continue;
        if (line[0] !== '2' && line[0] !== '3') return reject(new Error(line));
        if (--want > 0) continue;
        const next = steps[++i];
        if (!next) {
          s.end();
          return;
        }
        if (next[0] !== null) s.write(next[0]);
        want = next[1];
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

function script(): Array<[string | null, number]> {
  const steps: Array<[string | null, number]> = [[null, 1], ['EHLO micro.test\r\n', 1]];
  for (let m = 0; m < M; m++) {
    if (values['no-pipelining']) steps.push(['MAIL FROM:<a@src.test>\r\n', 1], ['RCPT TO:<b@dst.test>\r\n', 1], ['DATA\r\n', 1], [body, 1]);
    else steps.push(['MAIL FROM:<a@src.test>\r\nRCPT TO:<b@dst.test>\r\nDATA\r\n', 3], [body, 1]);
  }
  steps.push(['QUIT\r\n', 1]);
  return steps;
}

/** smtp-server alone (`--server smtp-server`): every message is read to its end and answered 250; `onMessage` counts it. */
async function bareServer(maxClients: number, onMessage: () => void): Promise<{ port: number; close(): Promise<void> }> {
  const server = new PromptGreetingServer({
    name: 'relay.test', banner: 'dane-relay', disableReverseLookup: true, authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'],
    maxClients, size: 10 * 1024 * 1024,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        onMessage();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A spool that stores nothing (`--spool memory`): what the inbound path costs without the spool's file operations. */
function memorySpool(): Spool {
  let seq = 0;
  const beginMessage = async (): Promise<MessageWriter> => ({
    id: `M${(++seq).toString(16).toUpperCase()}`,
    write: async () => undefined,
    commit: async () => undefined,
    abort: async () => undefined,
  });
  return { beginMessage } as unknown as Spool;
}

async function main(): Promise<void> {
  if (values.client !== 'own' && values.client !== 'smtp-source') throw new Error('--client: own or smtp-source');
  if (values.spool !== 'disk' && values.spool !== 'memory') throw new Error('--spool: disk or memory');
  if (values.server !== 'relay' && values.server !== 'smtp-server') throw new Error('--server: relay or smtp-server');
  const bare = values.server === 'smtp-server';
  const viaSmtpSource = values.client === 'smtp-source';
  const dir = await mkdtemp(join(values.dir, 'micro-inbound-'));
  const timeoutMs = Number(values.timeout) * 1000;
  const timer = setTimeout(() => process.exit(2), timeoutMs);
  try {
    const disk = values.spool === 'disk' && !bare ? await Spool.open(join(dir, 'spool')) : undefined;
    const spool = disk ?? memorySpool();
    const config = parseConfig({ listen: ['127.0.0.1:0'], spool: join(dir, 'spool'), myhostname: 'relay.test', inbound: { max_clients: C + 10 } });
    let queued = 0;
    const onQueued = (id: string, hint: QueuedHint): void => {
      // With its size, as delivery removes it: the file is kept as a spare (spare-files.ts).
      if (disk) void disk.remove(id, 'incoming', hint.record.size).then(() => queued++);
      else queued++;
    };
    let port: number;
    let closeServer: () => Promise<void>;
    if (bare) {
      const b = await bareServer(C + 10, () => queued++);
      port = b.port;
      closeServer = () => b.close();
    } else {
      const server = new InboundServer({ config, spool, logger: silentLogger(), onQueued });
      const [addr] = await server.listen();
      port = addr?.port ?? 0;
      closeServer = () => server.close(100);
    }
    const smtpSource = (messages: number) =>
      runSmtpSource({ host: '127.0.0.1', port, sessions: C, messages, size: Number(values.size), sender: 'a@src.test', recipient: 'b@dst.test', reuse: M > 1, timeoutMs }).then((r) => {
        if (r.acceptedCount !== messages) throw new Error(`smtp-source: ${r.errors.join('; ') || 'failed'}`);
      });
    const total = viaSmtpSource ? N : N * M;
    // warm-up (JIT), not measured: smtp-source messages, or own-client connections
    const warmup = viaSmtpSource ? Math.min(N, 2000) : Math.min(C, 200);
    if (viaSmtpSource) await smtpSource(warmup);
    else for (let w = 0; w < warmup; w++) await converse(port, script());
    await until(() => queued === (viaSmtpSource ? warmup : warmup * M), timeoutMs);
    queued = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (viaSmtpSource) await smtpSource(N);
    else {
      let next = 0;
      const steps = script();
      const worker = async (): Promise<void> => {
        while (next++ < N) await converse(port, steps);
      };
      await Promise.all(Array.from({ length: C }, worker));
    }
    await until(() => queued >= total, timeoutMs);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    await closeServer();
    await disk?.close();
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const connections = viaSmtpSource && M > 1 ? C : N;
    process.stdout.write(`${JSON.stringify({ client: values.client, server: values.server, spool: bare ? null : values.spool, connections, perConnection: M, messages: total, sessions: C, cpuS, userS: cpu.user / 1e6, sysS: cpu.system / 1e6, cpuSPer1000Connections: (cpuS / connections) * 1000, cpuSPer1000Messages: total > 0 ? (cpuS / total) * 1000 : null, wallMs, queued })}\n`);
  } finally {
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`micro-inbound: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
