/**
 * Build the MTA-STS resolver from the relay's configuration: the one entry
 * point the delivery engine, `check` and the lab use.
 *
 * Contract (`createStsFromConfig(config, dns, onEvent?)`):
 * - returns null when `sts.enabled` is false (the policy-source decision
 *   then gets `{ kind: 'none' }` for every domain);
 * - trust for the policy fetch is `tls.ca_file` (the same PEM bundle as the
 *   SMTP PKIX checks) or Node's root store; timeouts from `sts.*`;
 * - the cache lives in `<spool>/sts/policies.json`; warnings from loading it
 *   (a corrupt file moved aside, dropped entries) are returned for the
 *   start-up log. An unreadable `tls.ca_file` rejects (bad configuration).
 * `port` overrides 443 (the lab's policy server listens elsewhere).
 */
import { readFile } from 'node:fs/promises';
import type { RelayConfig } from '../config/schema.ts';
import type { DnsLookup } from '../core/dns-result.ts';
import { StsCacheStore } from './cache-store.ts';
import { fetchStsPolicy } from './fetch.ts';
import { createStsResolver, type StsEvent, type StsResolver } from './resolver.ts';

export interface StsSetup {
  resolver: StsResolver;
  store: StsCacheStore;
  warnings: string[];
}

export async function createStsFromConfig(
  config: RelayConfig, dns: DnsLookup, opts: { onEvent?: (e: StsEvent) => void; port?: number } = {},
): Promise<StsSetup | null> {
  if (!config.sts.enabled) return null;
  const ca = config.tls.ca_file !== null ? [await readFile(config.tls.ca_file, 'utf8')] : undefined;
  const store = await StsCacheStore.open(config.spool);
  const resolver = createStsResolver({
    dns,
    store,
    refreshAheadMs: config.sts.refresh_ahead,
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    fetch: (domain) => fetchStsPolicy(domain, {
      dns, ca, connectTimeoutMs: config.sts.connect_timeout, totalTimeoutMs: config.sts.fetch_timeout, ...(opts.port ? { port: opts.port } : {}),
    }),
  });
  return { resolver, store, warnings: [...store.warnings] };
}
