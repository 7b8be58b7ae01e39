/**
 * A private Postfix instance for the tier-2 lab: its own config_directory,
 * queue_directory and data_directory under a temp dir, listening on
 * 127.0.0.1:<port> and relaying everything to `relayhost` (dane-relay).
 * Meant to run inside the lab network namespace (`ip netns exec NS postfix
 * -c DIR start`); the system instance in /etc/postfix is never touched.
 *
 * Contract:
 * - `writePostfixInstance()` writes main.cf (loopback only, no local
 *   delivery, no DNS: the relayhost is an IP literal in brackets) and a
 *   master.cf derived from the system one (/etc/postfix/master.cf): every
 *   service unchrooted, `smtp inet` moved to the given port, the pipe
 *   services Debian adds removed. Directories are created with the owners
 *   Postfix wants (root for config/queue, `postfix` for data).
 * - `transformMasterCf()` is pure (tested without Postfix).
 * - Start/stop commands are returned as argv; `stop` is safe to run twice.
 *   The master's PID file is `<queue>/pid/master.pid` (fallback kill).
 * Failure modes: missing postfix user/group, unreadable master.cf, or an
 * ancestor of baseDir the `postfix` user cannot traverse, throw.
 */
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

export interface PostfixInstanceOptions {
  /** Directory to create the instance in (config/, queue/, data/, postfix.log). */
  baseDir: string;
  /** Port of Postfix's smtpd on 127.0.0.1. */
  smtpdPort: number;
  /**
   * Where Postfix relays everything (dane-relay's listener); without it the
   * instance delivers itself, by MX, with `smtp_tls_security_level = dane`
   * over DNSSEC (the reference DANE client the relay is compared with).
   */
  relayhost?: { host: string; port: number };
  myhostname?: string;
  /** Source master.cf; default /etc/postfix/master.cf. */
  masterCfSource?: string;
}

export interface PostfixInstance {
  configDir: string;
  queueDir: string;
  logFile: string;
  masterPidFile: string;
  smtpd: { host: string; port: number };
  /** argv (command first) to start / stop / flush the instance. */
  startCommand: string[];
  stopCommand: string[];
  flushCommand: string[];
}

/** Services Debian's master.cf adds that need external programs and users. */
const DROPPED_SERVICES = new Set(['maildrop', 'uucp', 'ifmail', 'bsmtp', 'scalemail-backend', 'mailman']);

/**
 * master.cf for a private instance: every service `chroot = n` (no copied
 * /etc files needed in the queue dir), the `smtp inet` service bound to
 * `port`, pipe services with foreign users dropped (with their `-o`/arg lines).
 */
export function transformMasterCf(text: string, port: number): string {
  const out: string[] = [];
  let dropping = false;
  for (const line of text.split('\n')) {
    if (/^\s+\S/.test(line)) { if (!dropping) out.push(line); continue; }
    dropping = false;
    const f = line.split(/\s+/);
    if (line.startsWith('#') || f.length < 8) { out.push(line); continue; }
    if (DROPPED_SERVICES.has(f[0] ?? '')) { dropping = true; continue; }
    f[4] = 'n';
    if (f[0] === 'smtp' && f[1] === 'inet') f[0] = String(port);
    out.push(f.join(' '));
  }
  return out.join('\n');
}

/** uid/gid of a system user or group (Postfix's `postfix` user, `postdrop` group). */
export function idOf(kind: 'passwd' | 'group', name: string): number {
  const line = execFileSync('getent', [kind, name], { encoding: 'utf8' });
  const id = Number(line.split(':')[2]);
  if (!Number.isInteger(id)) throw new Error(`postfix lab: no ${kind} entry for ${name}`);
  return id;
}

export interface PrivateInstanceDirs { config: string; queue: string; data: string; log: string }

/**
 * main.cf lines every private Postfix instance of ours shares (tier 2 and the
 * benchmark): own directories and log, loopback only, no local delivery.
 * Callers add their relay and TLS settings.
 */
export function privateInstanceMainCf(dirs: PrivateInstanceDirs, o: { baseDir: string; myhostname: string; mydomain: string }): string {
  return `compatibility_level = 3.6
config_directory = ${dirs.config}
queue_directory = ${dirs.queue}
data_directory = ${dirs.data}
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${dirs.log}
maillog_file_prefixes = ${o.baseDir}
myhostname = ${o.myhostname}
mydomain = ${o.mydomain}
myorigin = $myhostname
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
append_dot_mydomain = no
`;
}

function mainCf(o: PostfixInstanceOptions, dirs: PrivateInstanceDirs): string {
  const route = o.relayhost
    ? `relayhost = [${o.relayhost.host}]:${o.relayhost.port}\nsmtp_tls_security_level = none\nsmtp_dns_support_level = disabled\n`
    : 'smtp_tls_security_level = dane\nsmtp_dns_support_level = dnssec\nsmtp_tls_loglevel = 1\nsmtp_host_lookup = dns\n';
  return `# Private tier-2 lab instance (generated): loopback only, ${o.relayhost ? 'relays everything' : 'delivers by MX with DANE'}.
${privateInstanceMainCf(dirs, { baseDir: o.baseDir, myhostname: o.myhostname ?? 'postfix.lab.test', mydomain: 'lab.test' })}smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
${route}queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
`;
}

/** Postfix daemons run as `postfix`: every ancestor of baseDir must be traversable by others. */
async function assertTraversable(dir: string): Promise<void> {
  for (let d = resolve(dir); d !== dirname(d); d = dirname(d)) {
    const st = await stat(d).catch(() => undefined);
    if (st && (st.mode & 0o001) === 0) throw new Error(`postfix lab: ${d} is not traversable by the postfix user (needs o+x)`);
  }
}

export async function writePostfixInstance(o: PostfixInstanceOptions): Promise<PostfixInstance> {
  const dirs = {
    config: join(o.baseDir, 'config'), queue: join(o.baseDir, 'queue'),
    data: join(o.baseDir, 'data'), log: join(o.baseDir, 'postfix.log'),
  };
  const uid = idOf('passwd', 'postfix');
  idOf('group', 'postdrop');
  for (const d of [o.baseDir, dirs.config, dirs.queue, dirs.data]) await mkdir(d, { recursive: true });
  // The daemons run as `postfix`: they must traverse baseDir; data/ is theirs.
  await chmod(o.baseDir, 0o755);
  await assertTraversable(o.baseDir);
  await chmod(dirs.queue, 0o755);
  await chown(dirs.data, uid, -1);
  const master = await readFile(o.masterCfSource ?? '/etc/postfix/master.cf', 'utf8');
  await writeFile(join(dirs.config, 'master.cf'), transformMasterCf(master, o.smtpdPort));
  await writeFile(join(dirs.config, 'main.cf'), mainCf(o, dirs));
  const pf = ['postfix', '-c', dirs.config];
  return {
    configDir: dirs.config, queueDir: dirs.queue, logFile: dirs.log,
    masterPidFile: join(dirs.queue, 'pid', 'master.pid'),
    smtpd: { host: '127.0.0.1', port: o.smtpdPort },
    startCommand: [...pf, 'start'], stopCommand: [...pf, 'stop'], flushCommand: [...pf, 'flush'],
  };
}
