/**
 * The network namespace the --compare-postfix bench runs in, so Postfix
 * (which resolves through /etc/resolv.conf) and dane-relay see the same
 * world: the lab resolver at 127.0.0.1:53, the sink MX at 127.0.0.2:25.
 *
 * Contract:
 * - `createNetns(name)`: `ip netns add`, loopback up,
 *   `net.unix.max_dgram_qlen` raised for Postfix's postlogd, and
 *   /etc/netns/<name>/resolv.conf with `nameserver 127.0.0.1` and
 *   `options trust-ad` (`ip netns exec` bind-mounts it over /etc/resolv.conf;
 *   glibc passes the AD bit through only with trust-ad); with
 *   `{ resolvConf: false }` the host's resolv.conf stays. Needs root.
 * - `deleteNetns(name)`: removes the namespace and its /etc/netns directory;
 *   safe to call twice and after a failed create.
 * - `runInNetns(name, argv, timeoutMs)`: runs argv inside the namespace with
 *   inherited stdio, kills it (SIGTERM, then SIGKILL by pid) at the timeout
 *   or when this process is told to stop; resolves with its exit code.
 * Every command is bounded by a timeout; failures of `ip` throw with its stderr.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';

function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, _out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr: String(stderr) });
    });
  });
}

export function netnsName(): string {
  return `drbench-${process.pid}`;
}

export async function createNetns(name: string, opts: { resolvConf?: boolean } = {}): Promise<void> {
  const add = await run('ip', ['netns', 'add', name]);
  if (add.code !== 0) throw new Error(`ip netns add ${name} failed: ${add.stderr.trim()}`);
  const lo = await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  if (lo.code !== 0) {
    await deleteNetns(name);
    throw new Error(`ip -n ${name} link set lo up failed: ${lo.stderr.trim()}`);
  }
  // Postfix logs through postlogd's UNIX datagram socket; Linux caps its queue at 10 per namespace,
  // and a full queue has stalled Postfix's start (test/interop/dsn-postfix.test.ts).
  const qlen = await run('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.unix.max_dgram_qlen=512']);
  if (qlen.code !== 0) {
    await deleteNetns(name);
    throw new Error(`sysctl net.unix.max_dgram_qlen in ${name} failed: ${qlen.stderr.trim()}`);
  }
  if (opts.resolvConf === false) return;
  await mkdir(`/etc/netns/${name}`, { recursive: true });
  await writeFile(`/etc/netns/${name}/resolv.conf`, 'nameserver 127.0.0.1\noptions trust-ad\n');
}

export async function deleteNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name]);
  await rm(`/etc/netns/${name}`, { recursive: true, force: true });
}

export function runInNetns(name: string, argv: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', name, ...argv], { stdio: 'inherit' });
    const kill = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    };
    const timer = setTimeout(kill, timeoutMs);
    process.once('SIGINT', kill);
    process.once('SIGTERM', kill);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('SIGINT', kill);
      process.removeListener('SIGTERM', kill);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
