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
 * - MTA-STS (`sts.enabled`): one resolver with its persisted cache
 *   (sts/create.ts), handed to the route as `RouteContext.sts`; its fetch
 *   and cache events are logged; TLSRPT (`tlsrpt.record`): one attempt
 *   store in the spool and one recorder, handed to the engine;
 * - `close()` QUITs pooled sessions, waits for a running background
 *   policy refresh, fsyncs and closes the TLSRPT store and closes the DNS
 *   client it created (an injected one belongs to the caller).
 * The checker (`dane-relay check`) reuses `planRoute` (route.ts) and
 * `openVerifiedSession` (smtp-session.ts) through `buildRouteContext` and
 * `buildSessionSettings`, without sending mail.
 */
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { parseHostPort } from '../config/host-port.ts';
import type { SelfAddresses } from '../core/self-loop.ts';
import type pino from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { configTables } from '../config/tables.ts';
import { lookupPolicy } from '../config/tls-policy-map.ts';
import type { DnsLookup } from '../core/dns-result.ts';
import type { DnsClient } from '../dns/index.ts';
import { buildDnsClient } from '../dns/from-config.ts';
import type { Deliverer } from '../queue/deliverer.ts';
import { deliverJob, type EngineDeps } from './deliver.ts';
import { deliveryOptionsFrom, type DeliveryOptions } from './options.ts';
import type { RouteContext } from './route.ts';
import { SessionPool } from './session-pool.ts';
import type { SessionSettings } from './smtp-session.ts';
import { defaultTrustAnchors, noIssuerClientContext, parsePemBundle } from './trust-store.ts';
import { createStsFromConfig, type StsSetup } from '../sts/create.ts';
import type { StsEvent } from '../sts/resolver.ts';
import { TlsrptStore } from '../tlsrpt/store.ts';
import { TlsrptRecorder } from '../tlsrpt/recorder.ts';

export { planRoute, type RoutePlan, type RouteEntry, type Target } from './route.ts';
export { openVerifiedSession, type OpenResult, type SessionSettings } from './smtp-session.ts';

async function readOptional(path: string | null): Promise<string | undefined> {
  return path === null ? undefined : readFile(path, 'utf8');
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
    clientContext: noIssuerClientContext(),
    trustAnchors: caText !== undefined ? parsePemBundle(caText, config.tls.ca_file ?? 'tls.ca_file') : defaultTrustAnchors(),
  };
}

/** MTA-STS events as log lines (fetches, failures, cache use when the TXT lookup failed). */
function logStsEvent(logger: pino.Logger, e: StsEvent): void {
  const { kind, ...fields } = e;
  if (kind === 'sts-policy-fetched') logger.info({ event: kind, ...fields }, `MTA-STS policy for ${e.domain} fetched: id ${e.id}, mode ${e.mode}, max_age ${e.maxAge}`);
  else if (kind === 'sts-policy-fetch-failed') logger.warn({ event: kind, ...fields }, `MTA-STS policy fetch for ${e.domain} failed (${e.result}): ${e.reason}${e.cacheKept ? '; cached policy still enforced' : ''}`);
  else logger.warn({ event: kind, ...fields }, `MTA-STS TXT lookup for ${e.domain} failed: ${e.detail}${e.cacheUsed ? '; cached policy still enforced' : ''}`);
}

export interface DelivererDeps {
  logger: pino.Logger;
  dns?: DnsLookup;
  /** Port of the MTA-STS policy servers (the lab's HTTPS server); default 443. */
  stsPort?: number;
}

/** MTA-STS resolver and TLSRPT recorder as the config asks (either may be off). */
async function policyServices(config: RelayConfig, dns: DnsLookup, deps: DelivererDeps, session: SessionSettings): Promise<{ sts: StsSetup | null; store: TlsrptStore | null; recorder: TlsrptRecorder | null }> {
  const sts = await createStsFromConfig(config, dns, { onEvent: (e) => logStsEvent(deps.logger, e), ...(deps.stsPort ? { port: deps.stsPort } : {}) });
  for (const w of sts?.warnings ?? []) deps.logger.warn({ event: 'sts-cache' }, w);
  if (!config.tlsrpt.record) return { sts, store: null, recorder: null };
  const store = await TlsrptStore.open(config.spool);
  const recorder = new TlsrptRecorder({
    store, trustAnchors: session.trustAnchors,
    onError: (err) => deps.logger.warn({ event: 'tlsrpt-store', err: err.message }, `TLSRPT attempt not recorded: ${err.message}`),
  });
  return { sts, store, recorder };
}

export async function createDeliverer(config: RelayConfig, deps: DelivererDeps): Promise<Deliverer> {
  const options = deliveryOptionsFrom(config);
  const ownDns = deps.dns ? null : await buildDnsClient(config);
  const dns: DnsLookup = deps.dns ?? (ownDns as DnsClient);
  const pool = new SessionPool(options.reuse);
  const session = await buildSessionSettings(config, options);
  const { sts, store, recorder } = await policyServices(config, dns, deps, session);
  const route = await buildRouteContext(config, dns, options);
  const engine: EngineDeps = {
    route: sts ? { ...route, sts: (hop) => sts.resolver.resolve(hop) } : route,
    session, pool, logger: deps.logger, mxSessionLimit: options.mxSessionLimit, tlsrpt: recorder,
  };
  return {
    deliver: (job) => deliverJob(engine, job),
    close: async () => {
      pool.close();
      await sts?.resolver.idle();
      await store?.close();
      if (ownDns) await ownDns.close();
    },
  };
}
