/**
 * The relay's DNS client: the one way anything asks DNS. Implements `DnsLookup`
 * (core/dns-result.ts) on a UDP/TCP stub resolver that asks configured
 * recursive resolvers for DNSSEC-validated answers.
 *
 * Contract:
 * - every lookup ends in exactly one `DnsResult` kind; a failure is never turned
 *   into "absent" or "insecure" (C1); names are absolute, no search list (C7);
 * - the AD bit counts only from servers inside `trustedNetworks` (C6);
 * - CNAME chains are followed to at most 8 links, secure only if every link is
 *   (RFC 7672 §2.2.3, C11); loops and overlong chains are failures;
 * - results are cached (see cache.ts) and concurrent identical lookups share one
 *   resolution (in-flight map);
 * - `close()` aborts queries in flight (they end as `failure`/network); later
 *   lookups fail the same way. Bad configuration throws `DnsConfigError`.
 * - Each resolution has its own AbortSignal (tracked in a set until it ends),
 *   so at most one abort listener sits on a signal at a time; one signal
 *   shared by every concurrent query collected one listener per query in
 *   flight (MaxListenersExceededWarning under load, issue 19 item 7).
 */
import type { DnsLookup, DnsResult, RecordByType, RecordType } from '../core/dns-result.ts';
import { cacheTtlSeconds, DnsCache, type CacheLimits } from './cache.ts';
import { interpretResponse, MAX_CNAME_LINKS, newChain } from './interpret.ts';
import { queryServers, type QueryContext } from './query.ts';
import { DnsConfigError } from './resolv-conf.ts';
import type { DnsServer } from './transport.ts';
import { describeTrust, isTrustedServer, parseTrustedNetworks } from './trust.ts';
import { normalizeName } from './wire.ts';

export interface DnsClientOptions {
  servers: Array<{ host: string; port: number }>;
  /** CIDRs whose resolvers' AD bit is believed; default loopback (DEFAULT_TRUSTED_NETWORKS) */
  trustedNetworks: string[];
  /** per attempt and transport, default 2000 */
  timeoutMs: number;
  /** rounds over all servers, default 2 */
  attempts: number;
  cache: CacheLimits;
  /** injectable clock (ms) for cache tests; default Date.now */
  now?: () => number;
}

export interface KindCounters { queries: number; secure: number; insecure: number; nxdomain: number; nodata: number; failure: number }

export interface DnsClientStats {
  /** packets put on the wire (each UDP or TCP attempt) */
  queriesSent: number;
  /** lookups answered from the cache or by joining an identical lookup in flight */
  cacheHits: number;
  /** lookups that started a resolution */
  cacheMisses: number;
  /** per query type: lookups, and the kind of result each got */
  byType: Record<string, KindCounters>;
}

/** `a` plus `b` (the counters of two clients, e.g. the main thread's and the delivery thread's). */
export function sumDnsStats(a: DnsClientStats, b: DnsClientStats | undefined): DnsClientStats {
  if (!b) return a;
  const byType: Record<string, KindCounters> = { ...a.byType };
  for (const [type, k] of Object.entries(b.byType)) {
    const x = byType[type];
    byType[type] = x ? { queries: x.queries + k.queries, secure: x.secure + k.secure, insecure: x.insecure + k.insecure, nxdomain: x.nxdomain + k.nxdomain, nodata: x.nodata + k.nodata, failure: x.failure + k.failure } : k;
  }
  return { queriesSent: a.queriesSent + b.queriesSent, cacheHits: a.cacheHits + b.cacheHits, cacheMisses: a.cacheMisses + b.cacheMisses, byType };
}

export interface DnsClient extends DnsLookup {
  stats(): DnsClientStats;
  /** One line for the start-up log saying whose AD bit is believed (C6). */
  describeTrust(): string;
  clearCache(): void;
  close(): Promise<void>;
}

type AnyResult = DnsResult<unknown>;

function validate(opts: DnsClientOptions): void {
  if (opts.servers.length === 0) throw new DnsConfigError('no DNS servers configured');
  if (!(opts.timeoutMs > 0)) throw new DnsConfigError('DNS timeoutMs must be > 0');
  if (!(opts.attempts >= 1)) throw new DnsConfigError('DNS attempts must be >= 1');
}

export function createDnsClient(opts: DnsClientOptions): DnsClient {
  validate(opts);
  const nets = parseTrustedNetworks(opts.trustedNetworks);
  const servers = opts.servers.map((s) => ({ ...s, trusted: isTrustedServer(s.host, nets) }));
  const now = opts.now ?? Date.now;
  const cache = new DnsCache(opts.cache.maxEntries, now);
  const inflight = new Map<string, Promise<AnyResult>>();
  let closed = false;
  const running = new Set<AbortController>();
  const counters: DnsClientStats = { queriesSent: 0, cacheHits: 0, cacheMisses: 0, byType: {} };
  const onSend = (): void => { counters.queriesSent++; };

  /** One resolution with its own signal (aborted by close()); the controller is dropped when it ends. */
  async function resolve(qname: string, type: RecordType): Promise<{ result: AnyResult; ttl: number }> {
    const abort = new AbortController();
    if (closed) abort.abort();
    running.add(abort);
    try {
      return await resolveWith({ servers, timeoutMs: opts.timeoutMs, attempts: opts.attempts, signal: abort.signal, onSend }, qname, type);
    } finally {
      running.delete(abort);
    }
  }

  async function resolveWith(ctx: QueryContext, qname: string, type: RecordType): Promise<{ result: AnyResult; ttl: number }> {
    const st = newChain(qname, type);
    let asked = qname;
    for (let hop = 0; hop <= MAX_CNAME_LINKS; hop++) {
      const out = await queryServers(ctx, { name: asked, type });
      if (out.kind === 'failure') {
        const result: AnyResult = { kind: 'failure', reason: out.reason, qname, detail: out.detail };
        return { result, ttl: cacheTtlSeconds(result, opts.cache) };
      }
      const step = interpretResponse(st, out.response, asked, out.trusted && out.response.ad);
      if (step.kind === 'done') return { result: step.result, ttl: cacheTtlSeconds(step.result, opts.cache, step.negativeTtl) };
      asked = step.name;
    }
    const result: AnyResult = { kind: 'failure', reason: 'cname-limit', qname, detail: `more than ${MAX_CNAME_LINKS} CNAME links` };
    return { result, ttl: cacheTtlSeconds(result, opts.cache) };
  }

  function count(type: string, result: AnyResult): AnyResult {
    const c = (counters.byType[type] ??= { queries: 0, secure: 0, insecure: 0, nxdomain: 0, nodata: 0, failure: 0 });
    c.queries++;
    c[result.kind]++;
    return result;
  }

  async function lookupAny(name: string, type: RecordType): Promise<AnyResult> {
    const qname = normalizeName(name);
    if (qname === undefined) {
      return count(type, { kind: 'failure', reason: 'malformed', qname: name, detail: `invalid domain name "${name}"` });
    }
    const key = `${type} ${qname}`;
    const cached = cache.get(key);
    if (cached !== undefined) { counters.cacheHits++; return count(type, cached); }
    const joined = inflight.get(key);
    if (joined !== undefined) { counters.cacheHits++; return count(type, await joined); }
    counters.cacheMisses++;
    const p = resolve(qname, type).then(({ result, ttl }) => {
      if (!closed) cache.set(key, result, ttl);
      return result;
    }).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return count(type, await p);
  }

  return {
    lookup: <T extends keyof RecordByType>(name: string, type: T) =>
      lookupAny(name, type) as Promise<DnsResult<RecordByType[T]>>,
    stats: () => structuredClone(counters),
    describeTrust: () => describeTrust(servers, nets, opts.trustedNetworks),
    clearCache: () => cache.clear(),
    close: async () => {
      closed = true;
      for (const abort of running) abort.abort();
      cache.clear();
      await Promise.allSettled([...inflight.values()]);
    },
  };
}

export type { DnsServer };
