/**
 * The metrics and health listener of `serve`, when `metrics.listen` is set:
 * Prometheus `/metrics` fed by the log events (src/metrics) and `/healthz`
 * (not ready while the DNSSEC self-check fails — re-probed through an
 * uncached DNS client at most every `metrics.health_interval` — or while
 * the spool is not writable).
 */
import type { RelayConfig } from '../config/schema.ts';
import type { DnsClient } from '../dns/index.ts';
import type { DnsClientStats } from '../dns/client.ts';
import { createDnsClient } from '../dns/index.ts';
import { DnssecMonitor } from '../health/dnssec-guard.ts';
import { queueFigures } from '../health/queue-probe.ts';
import { spoolWritable } from '../health/spool-writable.ts';
import { dnsClientOptions } from '../dns/from-config.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/http.ts';
import type { RelayMetrics } from '../metrics/metrics.ts';
import type { RelayHandle } from '../relay.ts';

/** A DNS client like the relay's but without a cache, so every health probe asks the resolver. */
async function uncachedProbeClient(config: RelayConfig): Promise<DnsClient> {
  const opts = await dnsClientOptions(config);
  return createDnsClient({ ...opts, cache: { maxEntries: 1, maxTtlSeconds: 0, failureTtlSeconds: 0, negativeMaxTtlSeconds: 0 } });
}

/** `dnsStats`: the relay's DNS counters (its own client's and, with the delivery thread, that thread's). */
export async function startObservability(config: RelayConfig, metrics: RelayMetrics, handle: RelayHandle, dnsStats: () => DnsClientStats): Promise<{ server: MetricsServer; close(): Promise<void> }> {
  const listen = config.metrics.listen;
  if (listen === null) throw new Error('startObservability needs metrics.listen');
  const probeDns = await uncachedProbeClient(config);
  const monitor = DnssecMonitor.fromConfig(config, probeDns, config.metrics.health_interval);
  metrics.setProbes({
    queue: () => queueFigures(handle.queue.spool),
    dns: dnsStats,
  });
  const [host, port] = splitHostPort(listen);
  const server = await startMetricsServer({ host, port }, metrics.registry, [
    { name: 'dnssec', check: () => monitor.check() },
    { name: 'spool', check: () => spoolWritable(config.spool) },
  ]);
  return {
    server,
    async close() {
      await server.close();
      await probeDns.close();
    },
  };
}

function splitHostPort(s: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m?.[1] || !m[2]) throw new Error(`config error: metrics.listen: expected HOST:PORT, got ${s}`);
  return [m[1], Number(m[2])];
}
