/**
 * Builds the delivery engine from the configuration: DNS client (unless one is
 * injected), policy and transport tables, PKIX trust anchors, session pool.
 * Implements the queue's `Deliverer` (src/queue/deliverer.ts).
 *
 * Contract:
 * - everything is built once here and passed down (no module singletons);
 * - `dns.resolvers` empty → /etc/resolv.conf; `tls.ca_file` → PEM bundle,
 *   else Node's bundled roots; files that cannot be read or parsed throw at
 *   start-up; the policy and transport tables come typed from the config
 *   (config/tables.ts), parsed once at load;
 * - `close()` QUITs pooled sessions and closes the DNS client it created
 *   (an injected one belongs to the caller).
 * The checker (`dane-relay check`) reuses `planRoute` (route.ts) and
 * `openVerifiedSession` (smtp-session.ts) through `buildRouteContext` and
 * `buildSessionSettings`, without sending mail.
 */
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { parseHostPort } from '../config/schema.ts';
import type { SelfAddresses } from '../core/self-loop.ts';
import type pino from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { configTables } from '../config/tables.ts';
import { lookupPolicy } from '../config/tls-policy-map.ts';
import type { DnsLookup } from '../core/dns-result.ts';
import { createDnsClient, parseServerAddress, readSystemResolvConf, type DnsClient, type DnsClientOptions } from '../dns/index.ts';
import type { Deliverer } from '../queue/deliverer.ts';
import { deliverJob, type EngineDeps } from './deliver.ts';
import { deliveryOptionsFrom, type DeliveryOptions } from './options.ts';
import type { RouteContext } from './route.ts';
import { SessionPool } from './session-pool.ts';
import type { SessionSettings } from './smtp-session.ts';
import { defaultTrustAnchors, NO_ISSUER_CA_PEM, parsePemBundle } from './trust-store.ts';

export { planRoute, type RoutePlan, type RouteEntry, type Target } from './route.ts';
export { openVerifiedSession, type OpenResult, type SessionSettings } from './smtp-session.ts';

async function readOptional(path: string | null): Promise<string | undefined> {
  return path === null ? undefined : readFile(path, 'utf8');
}

/** DNS client options from `config.dns`; resolvers empty → /etc/resolv.conf. */
export async function dnsClientOptions(config: RelayConfig): Promise<DnsClientOptions> {
  const d = config.dns;
  const servers = d.resolvers.length > 0 ? d.resolvers.map(parseServerAddress) : (await readSystemResolvConf()).servers;
  return {
    servers, trustedNetworks: [...d.trusted_resolvers], timeoutMs: d.timeout, attempts: d.attempts,
    cache: {
      maxEntries: d.cache.max_entries, maxTtlSeconds: d.cache.max_ttl / 1000,
      failureTtlSeconds: d.cache.failure_ttl / 1000, negativeMaxTtlSeconds: d.cache.negative_max_ttl / 1000,
    },
  };
}

/** DNS client from `config.dns`. */
export async function buildDnsClient(config: RelayConfig): Promise<DnsClient> {
  return createDnsClient(await dnsClientOptions(config));
}

/** The relay's own listeners (`listen`) and the machine's addresses: a next hop among them loops (5.4.6). */
export function selfAddresses(config: RelayConfig): SelfAddresses {
  const listeners = config.listen.map(parseHostPort).filter((l): l is { host: string; port: number } => l !== undefined)
    .flatMap((l) => (l.host.toLowerCase() === 'localhost' ? [{ host: '127.0.0.1', port: l.port }, { host: '::1', port: l.port }] : [l]));
  const localAddresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  return { listeners, localAddresses };
}

/** Policy + transport tables and DNS → the routing context used by planRoute. */
export async function buildRouteContext(config: RelayConfig, dns: DnsLookup, options: DeliveryOptions = deliveryOptionsFrom(config)): Promise<RouteContext> {
  // Levels, policy and transport tables were validated and parsed once at load (config/tables.ts, C19).
  const { policy: policies, transport, defaults } = configTables(config);
  return {
    dns, transport, port: options.port, mxAddressLimit: options.mxAddressLimit,
    inetProtocols: options.inetProtocols, addressPreference: options.addressPreference,
    policyFor: (domain, bracketed) => lookupPolicy(policies, { domain, ...(bracketed ? { bracketed } : {}) }, defaults),
    self: selfAddresses(config),
  };
}

/** TLS client settings: EHLO name, timeouts, the no-issuer CA, the PKIX trust anchors. */
export async function buildSessionSettings(config: RelayConfig, options: DeliveryOptions = deliveryOptionsFrom(config)): Promise<SessionSettings> {
  const caText = await readOptional(config.tls.ca_file);
  return {
    myhostname: options.myhostname, connectTimeoutMs: options.connectTimeoutMs, commandTimeoutMs: options.commandTimeoutMs,
    deadlines: options.deadlines, maxReplySize: options.maxReplySize,
    clientCaPem: NO_ISSUER_CA_PEM,
    trustAnchors: caText !== undefined ? parsePemBundle(caText, config.tls.ca_file ?? 'tls.ca_file') : defaultTrustAnchors(),
  };
}

export async function createDeliverer(config: RelayConfig, deps: { logger: pino.Logger; dns?: DnsLookup }): Promise<Deliverer> {
  const options = deliveryOptionsFrom(config);
  const ownDns = deps.dns ? null : await buildDnsClient(config);
  const dns: DnsLookup = deps.dns ?? (ownDns as DnsClient);
  const pool = new SessionPool(options.reuse);
  const engine: EngineDeps = {
    route: await buildRouteContext(config, dns, options),
    session: await buildSessionSettings(config, options),
    pool, logger: deps.logger, mxSessionLimit: options.mxSessionLimit,
  };
  return {
    deliver: (job) => deliverJob(engine, job),
    close: async () => {
      pool.close();
      if (ownDns) await ownDns.close();
    },
  };
}
