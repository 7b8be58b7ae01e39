/**
 * The metrics/health HTTP listener: `GET /metrics` (Prometheus text format)
 * and `GET /healthz` (200 `ok` when every readiness check passes, 503 with
 * the failing checks otherwise). Off unless configured; the caller binds it
 * to loopback (config validation refuses anything else). Any other path: 404.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthCheck {
  name: string;
  /** Resolves to null when healthy, or a one-line reason. */
  check(): Promise<string | null>;
}

export interface MetricsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

async function health(checks: HealthCheck[]): Promise<{ ok: boolean; failures: Record<string, string> }> {
  const failures: Record<string, string> = {};
  for (const c of checks) {
    try {
      const reason = await c.check();
      if (reason) failures[c.name] = reason;
    } catch (err) {
      failures[c.name] = err instanceof Error ? err.message : String(err);
    }
  }
  return { ok: Object.keys(failures).length === 0, failures };
}

export async function startMetricsServer(listen: { host: string; port: number }, registry: Registry, checks: HealthCheck[]): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') { res.writeHead(405).end(); return; }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    if (path === '/healthz') {
      void health(checks).then((h) => {
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: h.ok ? 'ok' : 'not ready', failures: h.failures }) + '\n');
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
