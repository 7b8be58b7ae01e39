/**
 * The DNS client the relay's `dns:` section describes (resolvers, trusted
 * resolver networks, timeouts, cache limits). Every command that resolves
 * (serve, check, monitor, tlsa, tlsrpt, the lab) builds its client here, so
 * they all trust the AD bit from the same resolvers (non-negotiable 5).
 *
 * Kept apart from the delivery engine (outbound/create-deliverer.ts) so that
 * the listener thread, which only needs DNS for the start-up DNSSEC check,
 * does not load the SMTP client to get it.
 *
 * Failure modes: with `dns.resolvers` empty, /etc/resolv.conf is read as
 * glibc reads it (missing or without nameservers: 127.0.0.1); any other
 * read error throws, and start-up fails with the reason.
 */
import type { RelayConfig } from '../config/schema.ts';
import { createDnsClient, parseServerAddress, readSystemResolvConf, type DnsClient, type DnsClientOptions } from './index.ts';

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
