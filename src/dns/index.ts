/**
 * The DNS package's public surface: the client, resolver configuration, the
 * DNSSEC probe. See each module's header for its contract.
 */
export { createDnsClient, type DnsClient, type DnsClientOptions, type DnsClientStats, type KindCounters } from './client.ts';
export { DEFAULT_CACHE_LIMITS, FAILURE_TTL_CAP_SECONDS, type CacheLimits } from './cache.ts';
export { probeDnssec, type DnssecProbeResult } from './probe.ts';
export {
  DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT_MS, DnsConfigError, parseServerAddress, readResolvConf, readSystemResolvConf, type ResolvConf,
} from './resolv-conf.ts';
export { DEFAULT_TRUSTED_NETWORKS } from './trust.ts';
export type { DnsServer } from './transport.ts';
export { buildDnsClientOptions, type DnsConfigInput } from './options.ts';
