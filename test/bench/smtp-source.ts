/**
 * Postfix's load client `smtp-source` as a benchmark client
 * (`--client smtp-source`): `/usr/sbin/smtp-source` from Debian's `postfix`
 * package (scripts/system-deps.sh installs it).
 *
 * Contract:
 * - Runs `smtp-source -s C -m N -l SIZE -f SENDER -t RCPT -M HELO [-d] HOST:PORT`:
 *   C sessions, N messages, one recipient, HELO (no PIPELINING: one command,
 *   one reply); without `-d` (`reuse: false`) one connection per message,
 *   with `-d` many messages per connection.
 * - Resolves with a `LoadResult` without per-message timings (smtp-source
 *   reports none): `acceptedCount` is N when it exited 0, 0 otherwise (it
 *   stops at the first error reply, which lands in `errors`);
 *   `endedAt` ≈ the last 250 (it exits right after its last QUIT).
 * - Bounded: killed by pid (SIGKILL) at `timeoutMs`, `timedOut` set.
 * - A missing binary rejects with a message naming the package.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import type { LoadResult } from './load-gen.ts';
import { now } from './sink.ts';

export const SMTP_SOURCE = '/usr/sbin/smtp-source';

export interface SmtpSourceOptions {
  host: string;
  port: number;
  sessions: number;
  messages: number;
  size: number;
  sender: string;
  recipient: string;
  reuse: boolean;
  timeoutMs: number;
}

export function smtpSourceArgs(o: SmtpSourceOptions): string[] {
  return [
    '-s', String(o.sessions), '-m', String(o.messages), '-l', String(o.size),
    '-f', o.sender, '-t', o.recipient, '-M', 'loadgen.bench.test',
    ...(o.reuse ? ['-d'] : []),
    `${o.host}:${o.port}`,
  ];
}

export async function runSmtpSource(o: SmtpSourceOptions): Promise<LoadResult> {
  await access(SMTP_SOURCE, constants.X_OK).catch(() => {
    throw new Error(`${SMTP_SOURCE} not found: install Debian's postfix package (scripts/system-deps.sh)`);
  });
  const startedAt = now();
  return new Promise((resolve) => {
    const child = spawn(SMTP_SOURCE, smtpSourceArgs(o), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    const finish = (code: number | null, error?: string): void => {
      clearTimeout(timer);
      const ok = code === 0 && !timedOut;
      const errors = [error, ...stderr.split('\n')].filter((l): l is string => !!l && l.trim() !== '').slice(0, 10);
      resolve({ startedAt, endedAt: now(), accepted: [], acceptedCount: ok ? o.messages : 0, greetingMs: [], rejected: ok ? 0 : 1, errors, timedOut });
    };
    child.once('error', (err) => finish(null, `smtp-source: ${err.message}`));
    child.once('exit', (code) => finish(code));
  });
}
