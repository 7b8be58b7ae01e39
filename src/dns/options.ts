/**
 * Builds `DnsClientOptions` from the relay configuration, falling back to
 * /etc/resolv.conf for the servers, timeout and attempts (as libc would), and
 * to the defaults below for the rest.
 *
 * Contract: configured servers ('host', 'host:port', '[v6]:port') win over
 * resolv.conf; configured timeout/attempts win over resolv.conf's options.
 * Bad addresses or CIDRs throw `DnsConfigError` (start-up error).
 */
import { DEFAULT_CACHE_LIMITS, type CacheLimits } from './cache.ts';
import type { DnsClientOptions } from './client.ts';
import { parseServerAddress, readSystemResolvConf } from './resolv-conf.ts';
import { DEFAULT_TRUSTED_NETWORKS, parseTrustedNetworks } from './trust.ts';

export interface DnsConfigInput {
  servers?: string[];
  trustedNetworks?: string[];
  timeoutMs?: number;
  attempts?: number;
  cache?: Partial<CacheLimits>;
  /** where to read resolv.conf when `servers` is not given (default /etc/resolv.conf) */
  resolvConfPath?: string;
}

export async function buildDnsClientOptions(input: DnsConfigInput = {}): Promise<DnsClientOptions> {
  const useConf = input.servers === undefined || input.servers.length === 0;
  const conf = await readSystemResolvConf(input.resolvConfPath);
  const trustedNetworks = [...(input.trustedNetworks ?? DEFAULT_TRUSTED_NETWORKS)];
  parseTrustedNetworks(trustedNetworks); // fail at start-up on a bad CIDR
  return {
    servers: useConf ? conf.servers : input.servers!.map(parseServerAddress),
    trustedNetworks,
    timeoutMs: input.timeoutMs ?? conf.timeoutMs,
    attempts: input.attempts ?? conf.attempts,
    cache: { ...DEFAULT_CACHE_LIMITS, ...input.cache },
  };
}
