/**
 * Route planning: next-hop domain → ordered list of (MX host, address) targets
 * with the effective TLS policy of each, or a final answer (RFC 5321 §5.1,
 * RFC 7672 §2.2; checklist C3, C4, C9, C10, C29).
 *
 * Contract:
 * - the transport table may replace the recipient domain by a next hop;
 *   `[host]` means no MX lookup (a secure MX name, C9); a port there overrides
 *   the global delivery port;
 * - MX failures defer 4.4.3 (C3), NXDOMAIN bounces 5.1.2, null MX bounces
 *   5.1.10 (C29) — all through core/mx-order;
 * - each MX host in order is resolved by host-lookup (addresses, TLSA only
 *   when addresses are secure, policy); unusable hosts stay in the list as
 *   `skip` entries, so the caller can log them and use the last reason;
 * - the effective policy of each host comes from ONE place: core/policy
 *   `resolvePolicy` (host-lookup.ts), then core/sts-precedence
 *   `choosePolicySource` (local table > DANE > MTA-STS enforce > default);
 *   this module only carries the result. MTA-STS (`ctx.sts`) is looked up
 *   once per next hop reached by MX or implicit MX, and only when core
 *   `needsStsState` says a host's decision depends on it;
 *   `[bracketed]` transport next hops are local decisions: no MTA-STS;
 *   an enforce policy that refuses a host (MX mismatch, RFC 8461 §4.1) or a
 *   failed `_mta-sts` lookup with nothing cached (non-negotiable 1) turn
 *   the host into a `skip` entry with its typed reason;
 * - an address that is one of the relay's own listeners (`self`, core/self-loop)
 *   is never a target: a host with only such addresses becomes a permanent
 *   `skip` 5.4.6 "mail for DOMAIN loops back to myself" (Postfix smtp_addr.c),
 *   so a next hop that is only us bounces instead of looping;
 * - planning stops once `mxAddressLimit` targets are collected;
 * - no sockets are opened here: `dane-relay check` uses this as is.
 */
import type { RefusalCause } from '../core/refusal-cause.ts';
import type { DnsLookup } from '../core/dns-result.ts';
import type { DestinationPolicy } from '../core/effective-policy.ts';
import { planMx, type MxHost } from '../core/mx-order.ts';
import { isOwnListener, loopsBackMessage, type SelfAddresses } from '../core/self-loop.ts';
import type { HostFacts } from '../core/policy.ts';
import { choosePolicySource, needsStsState, type SourcedPolicy, type StsState } from '../core/sts-precedence.ts';
import { lookupTransport, type TransportTable } from '../config/transport-map.ts';
import { resolveHost, type HostLookupContext, type HostResolution } from './host-lookup.ts';

export interface RouteContext extends HostLookupContext {
  dns: DnsLookup;
  transport: TransportTable;
  /** Global destination port. */
  port: number;
  mxAddressLimit: number;
  /** The destination's policy from the policy table (Postfix smtp_tls_policy_maps); `bracketed` for `[host]:port` next hops. */
  policyFor(nextHop: string, bracketed?: { host: string; port: number }): DestinationPolicy;
  /** MTA-STS state of a next hop (sts/resolver.ts); absent: MTA-STS disabled. */
  sts?: (nextHop: string) => Promise<StsState>;
  /** The relay's own listeners: a target among them is a mail loop (5.4.6). */
  self?: SelfAddresses;
}

export interface Target {
  nextHop: string;
  mxHost: string;
  preference: number;
  ip: string;
  family: 4 | 6;
  port: number;
  facts: HostFacts;
  policy: Extract<HostResolution, { kind: 'usable' }>['policy'];
  /** Which source governs the host, its TLSRPT policy type, the report-only `testing` check. */
  sourced: SourcedPolicy;
  /** The next hop's MTA-STS state as consulted for this host (TLSRPT policy strings). */
  sts: StsState;
}

export interface SkipEntry {
  kind: 'skip';
  mxHost: string;
  port: number;
  dsn: string;
  reason: string;
  cause: RefusalCause;
  /** 5.4.4-style "no such host": only a bounce when nothing else was usable. */
  permanent: boolean;
  resolution: Extract<HostResolution, { kind: 'skip' }>;
  /** Set when a policy refused the host (not for a host without address): its typed reason. */
  sourced?: SourcedPolicy;
  sts?: StsState;
}

export type RouteEntry = { kind: 'target'; target: Target } | SkipEntry;

export type RoutePlan =
  | { kind: 'final'; status: 'bounced' | 'deferred'; dsn: string; diagnostic: string; cause: RefusalCause; nextHop: string }
  | {
      kind: 'entries';
      nextHop: string;
      route: HostFacts['route'];
      mxSecure: boolean;
      port: number;
      destination: DestinationPolicy;
      /** The MTA-STS state, when a host needed it; null when MTA-STS was not consulted. */
      sts: StsState | null;
      entries: RouteEntry[];
    };

interface HostList { nextHop: string; port: number; route: HostFacts['route']; mxSecure: boolean; hosts: MxHost[]; bracketed: boolean }

async function hostList(ctx: RouteContext, domain: string): Promise<HostList | Extract<RoutePlan, { kind: 'final' }>> {
  const t = lookupTransport(ctx.transport, domain);
  const nextHop = t ? t.host : domain.toLowerCase();
  const port = t?.port ?? ctx.port;
  if (t?.bracketed) {
    // C9: a configured [host] next hop is treated like a secure MX host name.
    return { nextHop, port, route: 'bracketed', mxSecure: true, hosts: [{ host: t.host, preference: 0 }], bracketed: true };
  }
  const mx = planMx(nextHop, await ctx.dns.lookup(nextHop, 'MX'), ctx.random);
  if (mx.kind === 'bounce') return { kind: 'final', status: 'bounced', dsn: mx.dsn, diagnostic: mx.diagnostic, cause: mx.cause, nextHop };
  if (mx.kind === 'defer') return { kind: 'final', status: 'deferred', dsn: mx.dsn, diagnostic: mx.diagnostic, cause: mx.cause, nextHop };
  return { nextHop, port, route: mx.route, mxSecure: mx.mxSecure, hosts: mx.hosts, bracketed: false };
}

const NOT_CONSULTED: StsState = { kind: 'none', reason: 'MTA-STS not consulted' };

/** MTA-STS for this next hop, looked up at most once and only when a host needs it. */
function stsOnce(ctx: RouteContext, list: HostList, localEntry: boolean): { get(): Promise<StsState>; used(): StsState | null } {
  let state: Promise<StsState> | null = null;
  let settled: StsState | null = null;
  const applies = ctx.sts !== undefined && !localEntry && !list.bracketed;
  return {
    get: () => {
      if (!applies || !ctx.sts) return Promise.resolve({ kind: 'none', reason: localEntry ? 'local policy table entry' : 'MTA-STS not applicable' });
      // A resolver that rejects (its cache could not be written) defers like a DNS failure (non-negotiable 1).
      state ??= ctx.sts(list.nextHop)
        .catch((err: Error): StsState => ({ kind: 'tempfail', detail: `MTA-STS state for ${list.nextHop} unavailable: ${err.message}` }))
        .then((s) => (settled = s));
      return state;
    },
    used: () => settled,
  };
}

/** core/sts-precedence decides; the MTA-STS lookup happens only when its decision depends on it. */
async function sourceOf(base: HostResolution, localEntry: boolean, mxHost: string, sts: ReturnType<typeof stsOnce>): Promise<{ sourced: SourcedPolicy; sts: StsState } | null> {
  const policy = base.policy;
  if (!policy) return null; // no address: no policy was decided
  const state = needsStsState(localEntry, policy) ? await sts.get() : NOT_CONSULTED;
  return { sourced: choosePolicySource({ localEntry, base: policy, mxHost, sts: state }), sts: state };
}

function skipEntry(mxHost: string, port: number, res: Extract<HostResolution, { kind: 'skip' }>, src: { sourced: SourcedPolicy; sts: StsState } | null): SkipEntry {
  return { kind: 'skip', mxHost, port, dsn: res.dsn, reason: res.reason, cause: res.cause, permanent: res.permanent, resolution: res, ...(src ? { sourced: src.sourced, sts: src.sts } : {}) };
}

/** Resolve a next hop to the hosts to try, each with its policy. */
export async function planRoute(ctx: RouteContext, domain: string): Promise<RoutePlan> {
  const list = await hostList(ctx, domain);
  if ('kind' in list) return list;
  const destination = list.bracketed ? ctx.policyFor(list.nextHop, { host: list.nextHop, port: list.port }) : ctx.policyFor(list.nextHop);
  const localEntry = destination.source !== 'default';
  const sts = stsOnce(ctx, list, localEntry);
  const entries: RouteEntry[] = [];
  let targets = 0;
  for (const h of list.hosts) {
    if (ctx.mxAddressLimit > 0 && targets >= ctx.mxAddressLimit) break;
    const res = await resolveHost(ctx, {
      nextHop: list.nextHop, mxHost: h.host, port: list.port, route: list.route, mxSecure: list.mxSecure, destination,
    });
    const src = await sourceOf(res, localEntry, h.host, sts);
    if (res.kind === 'skip') { entries.push(skipEntry(h.host, list.port, res, src)); continue; }
    if (!src) throw new Error('planRoute: a usable host always has a policy');
    const policy = src.sourced.policy;
    if (policy.kind === 'skip') {
      // RFC 8461 §4.1 / non-negotiable 1: MTA-STS refused the host.
      entries.push(skipEntry(h.host, list.port, { kind: 'skip', dsn: policy.dsn, reason: policy.message, cause: policy.cause, permanent: false, facts: res.facts, policy }, src));
      continue;
    }
    const self = ctx.self;
    const addresses = self ? res.addresses.filter((a) => !isOwnListener(a.address, list.port, self)) : res.addresses;
    if (addresses.length === 0) {
      const loop = { kind: 'skip' as const, dsn: '5.4.6', reason: loopsBackMessage(list.nextHop), cause: 'mail_loop' as const, permanent: true, facts: res.facts };
      entries.push({ kind: 'skip', mxHost: h.host, port: list.port, dsn: loop.dsn, reason: loop.reason, cause: loop.cause, permanent: true, resolution: loop });
      continue;
    }
    for (const a of addresses) {
      if (ctx.mxAddressLimit > 0 && targets >= ctx.mxAddressLimit) break;
      targets++;
      entries.push({
        kind: 'target',
        target: { nextHop: list.nextHop, mxHost: h.host, preference: h.preference, ip: a.address, family: a.family, port: list.port, facts: res.facts, policy, sourced: src.sourced, sts: src.sts },
      });
    }
  }
  return { kind: 'entries', nextHop: list.nextHop, route: list.route, mxSecure: list.mxSecure, port: list.port, destination, sts: sts.used(), entries };
}
