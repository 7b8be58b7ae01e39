/**
 * Binding several lab listeners (MX servers, attacker proxies) on different
 * loopback addresses and ONE shared TCP port, because the relay connects to
 * every MX host on the same configured port (delivery.port).
 *
 * Contract: `findSharedPort(hosts)` returns a port that was free on every host
 * a moment ago (probe listeners are closed before it returns); callers then
 * bind for real and, on EADDRINUSE, ask again (bounded by `attempts`).
 * Only 127.0.0.0/8 and ::1 are accepted: anything else is a bug (throws).
 */
import net from 'node:net';

/** True for loopback addresses the lab may listen on. */
export function isLoopback(host: string): boolean {
  return host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function assertLoopback(host: string): void {
  if (!isLoopback(host)) throw new Error(`lab: refusing to use non-loopback address ${host}`);
}

function listenProbe(host: string, port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, host, () => resolve(srv));
  });
}

function closeServer(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/** A port free on all `hosts` (checked by binding each, then releasing). */
export async function findSharedPort(hosts: string[], attempts = 20): Promise<number> {
  hosts.forEach(assertLoopback);
  const [first, ...rest] = hosts;
  if (first === undefined) throw new Error('findSharedPort: no hosts');
  for (let i = 0; i < attempts; i++) {
    const probe = await listenProbe(first, 0);
    if (!probe) continue;
    const port = (probe.address() as net.AddressInfo).port;
    const held: net.Server[] = [probe];
    let ok = true;
    for (const h of rest) {
      const s = await listenProbe(h, port);
      if (!s) { ok = false; break; }
      held.push(s);
    }
    await Promise.all(held.map(closeServer));
    if (ok) return port;
  }
  throw new Error(`findSharedPort: no common free port on ${hosts.join(', ')} after ${attempts} attempts`);
}

/** Loopback address number `n` of the lab range: 127.0.0.n (2 ≤ n ≤ 254). */
export function labAddress(n: number): string {
  if (!Number.isInteger(n) || n < 2 || n > 254) throw new Error(`labAddress: ${n} out of range 2..254`);
  return `127.0.0.${n}`;
}
