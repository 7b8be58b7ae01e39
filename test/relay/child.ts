/** Starts test/fixtures/relay-child.ts as a child process and waits for READY (bounded). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export interface RelayChild {
  proc: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

const FIXTURE = resolve('test/fixtures/relay-child.ts');

export async function startChild(args: { config: string; delivered: string; mode?: 'deliver' | 'defer' }, timeoutMs = 15_000): Promise<RelayChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, '--config', args.config, '--delivered', args.delivered, '--mode', args.mode ?? 'deliver'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`relay child not ready in time: ${err}`));
    }, timeoutMs);
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      rej(new Error(`relay child exited (${code}) before READY: ${err}`));
    });
  });
  return { proc, port, exited, stderr: () => err };
}

/** A port that was free a moment ago (loopback). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}
