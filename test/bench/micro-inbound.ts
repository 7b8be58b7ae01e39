/**
 * Micro-benchmark of the inbound path alone, in one process: CPU per
 * connection and per message of `InboundServer` (the relay's real
 * smtp-server set-up, spool and Received header), for before/after
 * comparisons of a change to that path. No DNS, no delivery.
 *
 *   node bin/run-ts.js test/bench/micro-inbound.ts [--connections N] [--per-connection M] [--size BYTES] [--sessions C]
 *
 * C client sessions on loopback open N connections in all, each: 220,
 * EHLO, M messages (MAIL+RCPT+DATA pipelined, body, 250), QUIT (221). With
 * M = 0 only the connection cost is measured. `--no-pipelining`: one command
 * per write, each waiting for its reply (as `smtp-source` does). Prints ONE JSON line: CPU
 * seconds of this process (server and client together: the client's share
 * is the same for both sides of a comparison) per 1,000 connections and per
 * 1,000 messages, and the wall time. Bounded: `--timeout` seconds (60).
 * Interleave before/after runs (A B A B …) on a busy machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../src/config/load.ts';
import { InboundServer } from '../../src/inbound/server.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { Spool } from '../../src/queue/spool.ts';
import { buildMessage } from './load-gen.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '3000' },
    'per-connection': { type: 'string', default: '1' },
    size: { type: 'string', default: '2000' },
    sessions: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '60' },
    'no-pipelining': { type: 'boolean', default: false },
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

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'micro-inbound-'));
  const timer = setTimeout(() => process.exit(2), Number(values.timeout) * 1000);
  try {
    const spool = await Spool.open(join(dir, 'spool'));
    const config = parseConfig({ listen: ['127.0.0.1:0'], spool: join(dir, 'spool'), myhostname: 'relay.test', inbound: { max_clients: C + 10 } });
    let queued = 0;
    const server = new InboundServer({ config, spool, logger: silentLogger(), onQueued: (id) => void spool.remove(id, 'incoming').then(() => queued++) });
    const [addr] = await server.listen();
    const port = addr?.port ?? 0;
    let next = 0;
    const steps = script();
    const worker = async (): Promise<void> => {
      while (next++ < N) await converse(port, steps);
    };
    for (let w = 0; w < Math.min(C, 200); w++) await converse(port, steps); // warm-up: JIT
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: C }, worker));
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    await server.close(100);
    await spool.close();
    const cpuS = (cpu.user + cpu.system) / 1e6;
    process.stdout.write(`${JSON.stringify({ connections: N, perConnection: M, sessions: C, cpuS, userS: cpu.user / 1e6, sysS: cpu.system / 1e6, cpuSPer1000Connections: (cpuS / N) * 1000, cpuSPer1000Messages: M > 0 ? (cpuS / (N * M)) * 1000 : null, wallMs, queued })}\n`);
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
