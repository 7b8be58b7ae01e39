/**
 * The benchmark sink in its own process, so that receiving (TLS decryption,
 * parsing) does not compete with the load generator's event loop.
 *
 * Child side (`runSinkChild`, entered when this file is run directly):
 * reads SINK_HOST, SINK_PORT, SINK_CERT, SINK_KEY (file paths) from the
 * environment, sends `{ type: 'ready', port }` over IPC, then batches arrivals
 * (`{ type: 'arrivals', items: [id, t, tls, size][] }`) every 50 ms, and
 * answers `{ type: 'stats' }` / `{ type: 'reset' }`. It exits when the IPC
 * channel closes (the parent died or called `close()`).
 *
 * Parent side (`spawnSink`): starts the child, resolves once it listens,
 * keeps every arrival in memory (`arrivals`), and `waitFor(n, timeoutMs)`
 * resolves when n arrivals are in (or the timeout passed: the count is
 * returned, never an exception). `close()` kills the child by its pid.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSink, type Arrival, type SinkStats } from './sink.ts';

type ArrivalTuple = [string, number, boolean, number];
type ChildMessage = { type: 'ready'; port: number } | { type: 'arrivals'; items: ArrivalTuple[] } | { type: 'stats'; stats: SinkStats } | { type: 'error'; message: string };

export interface SinkProcess {
  host: string;
  port: number;
  pid: number;
  arrivals: Arrival[];
  /** Forget arrivals and zero the counters (between runs). */
  reset(): Promise<void>;
  stats(): Promise<SinkStats>;
  waitFor(count: number, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

const THIS_FILE = fileURLToPath(import.meta.url);
const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));

export async function spawnSink(o: { host: string; port: number; certFile: string; keyFile: string; startTimeoutMs?: number }): Promise<SinkProcess> {
  const child: ChildProcess = fork(RUN_TS, [THIS_FILE], {
    env: { ...process.env, SINK_HOST: o.host, SINK_PORT: String(o.port), SINK_CERT: o.certFile, SINK_KEY: o.keyFile },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  const arrivals: Arrival[] = [];
  let waiters: Array<() => void> = [];
  let statsWaiter: ((s: SinkStats) => void) | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sink did not start in time')), o.startTimeoutMs ?? 30_000);
    child.once('exit', (code) => reject(new Error(`sink exited early (code ${code})`)));
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.port);
      } else if (m.type === 'error') reject(new Error(`sink: ${m.message}`));
      else if (m.type === 'arrivals') {
        for (const [id, t, secure, size] of m.items) arrivals.push({ id, t, tls: secure, size });
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      } else if (m.type === 'stats') statsWaiter?.(m.stats);
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const request = (type: 'stats' | 'reset'): Promise<SinkStats> =>
    new Promise((resolve) => {
      statsWaiter = resolve;
      child.send({ type });
    });
  return {
    host: o.host,
    port,
    pid: child.pid ?? 0,
    arrivals,
    async reset() {
      await request('reset');
      arrivals.length = 0;
    },
    stats: () => request('stats'),
    async waitFor(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (arrivals.length < count && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(1000, Math.max(1, deadline - Date.now())));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return arrivals.length;
    },
    close() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}

async function runSinkChild(): Promise<void> {
  const send = (m: ChildMessage): void => {
    if (process.connected) process.send?.(m);
  };
  let batch: ArrivalTuple[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    send({ type: 'arrivals', items: batch });
    batch = [];
  };
  const sink = await startSink({
    host: process.env.SINK_HOST ?? '127.0.0.2',
    port: Number(process.env.SINK_PORT ?? 0),
    certPem: readFileSync(process.env.SINK_CERT ?? '', 'utf8'),
    keyPem: readFileSync(process.env.SINK_KEY ?? '', 'utf8'),
    onArrival: (a) => batch.push([a.id, a.t, a.tls, a.size]),
  });
  const timer = setInterval(flush, 50);
  process.on('message', (m: { type: string }) => {
    flush();
    if (m.type === 'reset') sink.reset();
    send({ type: 'stats', stats: sink.stats() });
  });
  const stop = (): void => {
    clearInterval(timer);
    void sink.close().finally(() => process.exit(0));
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  send({ type: 'ready', port: sink.port });
}

if (process.argv[1] === THIS_FILE) {
  runSinkChild().catch((err: unknown) => {
    if (process.connected) process.send?.({ type: 'error', message: String(err) });
    process.exit(1);
  });
}
