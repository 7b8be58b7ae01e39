/**
 * Where the monitor's changes go: mail through an SMTP server (the relay
 * itself or any other; nodemailer), a command, a Prometheus textfile.
 *
 * Contract:
 * - `mailAlert`: one message per run with changes, plain text, to the
 *   configured recipients through `host:port` (STARTTLS when offered).
 * - `commandAlert`: `/bin/sh -c COMMAND`, the alert text on stdin, the
 *   number of changes in DANE_MONITOR_CHANGES and the worst verdict in
 *   DANE_MONITOR_WORST; bounded by `timeoutMs` (killed after it); a non-zero
 *   exit is reported as an error.
 * - `textfileMetrics`: the node_exporter textfile-collector format, written
 *   atomically (state.ts `writeFileAtomic`), one gauge per target and
 *   warning kind; written every run, not only on change.
 * Each returns null on success or the reason it failed; none throws.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import nodemailer from 'nodemailer';
import type { Observation } from './observe.ts';
import { writeFileAtomic } from './state.ts';

export interface MailTarget { host: string; port: number; from: string; to: string[] }

export async function mailAlert(m: MailTarget, subject: string, text: string, timeoutMs: number): Promise<string | null> {
  const transport = nodemailer.createTransport({
    host: m.host, port: m.port, secure: false, name: hostname(),
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
    tls: { servername: m.host },
  });
  try {
    await transport.sendMail({ from: m.from, to: m.to, subject, text });
    return null;
  } catch (err) {
    return `mail to ${m.to.join(', ')} via ${m.host}:${m.port} failed: ${(err as Error).message}`;
  } finally {
    transport.close();
  }
}

export function commandAlert(command: string, text: string, env: Record<string, string>, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); resolve(`alert command failed to start: ${err.message}`); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? null : `alert command exited ${code ?? signal ?? '?'}`);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(text);
  });
}

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const VERDICT_VALUE = { pass: 0, degraded: 1, fail: 2 } as const;

/** The textfile body (pure). */
export function renderMetrics(observations: Observation[], now: Date): string {
  const lines = [
    '# HELP dane_relay_monitor_verdict Last verdict per target: 0 pass, 1 degraded, 2 fail.',
    '# TYPE dane_relay_monitor_verdict gauge',
    ...observations.map((o) => `dane_relay_monitor_verdict{target="${label(o.target)}"} ${VERDICT_VALUE[o.verdict]}`),
    '# HELP dane_relay_monitor_warnings Warnings ahead of time per target and kind (cert-expiry, rrsig-expiry, rrsig-lookup, staged-mismatch).',
    '# TYPE dane_relay_monitor_warnings gauge',
  ];
  for (const o of observations) {
    for (const kind of ['cert-expiry', 'rrsig-expiry', 'rrsig-lookup', 'staged-mismatch'] as const) {
      lines.push(`dane_relay_monitor_warnings{target="${label(o.target)}",kind="${kind}"} ${o.warnings.filter((w) => w.kind === kind).length}`);
    }
  }
  lines.push('# HELP dane_relay_monitor_last_run_timestamp_seconds When the monitor last ran.', '# TYPE dane_relay_monitor_last_run_timestamp_seconds gauge');
  lines.push(`dane_relay_monitor_last_run_timestamp_seconds ${Math.floor(now.getTime() / 1000)}`);
  return `${lines.join('\n')}\n`;
}

export async function textfileMetrics(file: string, observations: Observation[], now: Date): Promise<string | null> {
  try {
    await writeFileAtomic(file, renderMetrics(observations, now));
    return null;
  } catch (err) {
    return `cannot write ${file}: ${(err as Error).message}`;
  }
}
