/**
 * A private Postfix instance for the --compare-postfix bench: its own
 * config_directory / queue_directory / data_directory under a temp dir,
 * smtpd on 127.0.0.1:<port>, delivering by MX lookup (relayhost unset) with
 * `smtp_tls_security_level = dane`, `smtp_dns_support_level = dnssec` and
 * `smtp_tls_connection_reuse = yes` (through tlsproxy). Meant to run inside
 * the bench's network namespace, where /etc/resolv.conf points at the lab
 * resolver with `options trust-ad`.
 *
 * Contract:
 * - The system instance in /etc/postfix is never touched; master.cf is
 *   derived from /etc/postfix/master.cf by src/lab/interop/postfix.ts
 *   (`transformMasterCf`: unchrooted, smtpd moved to the port), plus the
 *   `tlsproxy` service that connection reuse needs.
 * - CPU accounting: the instance's CPU is that of the master process tree,
 *   reaped children included (proc-stats.ts `cpuOfTree(masterPid)`): every
 *   Postfix daemon is a child of master, which reaps them.
 * - `stop()` runs `postfix -c DIR stop`, waits for the master to exit
 *   (bounded), then SIGKILLs any process of the tree left, by pid.
 * - `tlsSessions()` counts "<State> TLS connection established|reused to" lines in
 *   the instance's log (smtp_tls_loglevel = 1) by state.
 * Failure modes: a failing `postfix start`, or smtpd not listening in time,
 * rejects with the command's output and the log tail.
 */
import { idOf, privateInstanceMainCf, type PrivateInstanceDirs } from '../../src/lab/interop/postfix.ts';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transformMasterCf } from '../../src/lab/interop/postfix.ts';
import { descendants } from './proc-stats.ts';
import { waitListening } from './relay-process.ts';

export interface PostfixSetup {
  dir: string;
  smtpdPort: number;
  caFile: string;
}

export interface PostfixInstance {
  masterPid: number;
  logFile: string;
  startMs: number;
  stop(): Promise<void>;
  tlsSessions(): Promise<Record<string, number>>;
}

export function postfixMainCf(s: PostfixSetup, d: PrivateInstanceDirs): string {
  return `# dane-relay bench: private Postfix instance (generated)
${privateInstanceMainCf(d, { baseDir: s.dir, myhostname: 'postfix.bench.test', mydomain: 'bench.test' })}smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
relayhost =
smtp_tls_security_level = dane
smtp_dns_support_level = dnssec
smtp_tls_connection_reuse = yes
smtp_tls_CAfile = ${s.caFile}
smtp_tls_loglevel = 1
`;
}


function postfixCmd(configDir: string, verb: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('postfix', ['-c', configDir, verb], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function writeInstance(s: PostfixSetup): Promise<{ config: string; queue: string; data: string; log: string }> {
  const d = { config: join(s.dir, 'config'), queue: join(s.dir, 'queue'), data: join(s.dir, 'data'), log: join(s.dir, 'postfix.log') };
  for (const x of [s.dir, d.config, d.queue, d.data]) await mkdir(x, { recursive: true });
  await chmod(s.dir, 0o755);
  await chmod(d.queue, 0o755);
  await chown(d.data, idOf('passwd', 'postfix'), -1);
  const master = transformMasterCf(await readFile('/etc/postfix/master.cf', 'utf8'), s.smtpdPort);
  await writeFile(join(d.config, 'master.cf'), `${master}\ntlsproxy unix - - n - 0 tlsproxy\n`);
  await writeFile(join(d.config, 'main.cf'), postfixMainCf(s, d));
  return d;
}

function killTree(root: number): void {
  for (const pid of descendants(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startPostfix(s: PostfixSetup, startTimeoutMs = 60_000): Promise<PostfixInstance> {
  const d = await writeInstance(s);
  const t0 = Date.now();
  const start = await postfixCmd(d.config, 'start', startTimeoutMs);
  const pidText = await readFile(join(d.queue, 'pid', 'master.pid'), 'utf8').catch(() => '');
  const masterPid = Number(pidText.trim());
  const listening = start.code === 0 && (await waitListening('127.0.0.1', s.smtpdPort, startTimeoutMs));
  const stop = async (): Promise<void> => {
    await postfixCmd(d.config, 'stop', 30_000);
    for (let i = 0; i < 100 && masterPid > 0 && alive(masterPid); i++) await new Promise((r) => setTimeout(r, 100));
    if (masterPid > 0) {
      killTree(masterPid);
      if (alive(masterPid)) process.kill(masterPid, 'SIGKILL');
    }
  };
  if (!listening || !(masterPid > 0)) {
    await stop();
    const log = await readFile(d.log, 'utf8').catch(() => '');
    throw new Error(`postfix did not start (exit ${start.code}): ${start.out}\n${log.slice(-3000)}`);
  }
  return {
    masterPid,
    logFile: d.log,
    startMs: Date.now() - t0,
    stop,
    async tlsSessions() {
      const log = await readFile(d.log, 'utf8').catch(() => '');
      const out: Record<string, number> = {};
      for (const m of log.matchAll(/ (\w+) TLS connection (?:established|reused) to /g)) out[m[1] ?? '?'] = (out[m[1] ?? '?'] ?? 0) + 1;
      return out;
    },
  };
}
