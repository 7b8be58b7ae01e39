/**
 * Per MX host: address records, then (only when they are secure) TLSA, then
 * the policy decision (RFC 7672 §2.2.1–2.2.3; checklist C4, C9–C12).
 *
 * Contract:
 * - A and AAAA are looked up as `inet_protocols` says, in parallel. A host
 *   with no address is skipped with 5.4.4 (permanent) ONLY when every lookup
 *   was a denial (NXDOMAIN or NODATA); any other combination — a failure,
 *   however it came about — is skipped with 4.4.3 (C1/C4: a failed lookup is
 *   never "no address", so it can never reach the bounce).
 *   `addressesSecure` is true only when every answer that gave addresses was
 *   validated (the CNAME chain included).
 * - TLSA is asked for only when `needsTlsaLookup` says so (dane levels AND
 *   secure addresses, C10), at the owner names of `tlsaCandidates` in order,
 *   stopping at the first answer that is not "not applicable" (C11); the port
 *   in the owner name is the port connected to (C12).
 * - `resolvePolicy` decides; a `skip` (TLSA lookup error, dane-only without
 *   usable TLSA…) makes the host unusable (C4, C19).
 * - IP-literal next hops (`[192.0.2.1]`) need no DNS; they have no DNSSEC
 *   status, so they count as insecure (no TLSA).
 * Never throws for DNS outcomes.
 */
import type { RefusalCause } from '../core/refusal-cause.ts';
import { isIP } from 'node:net';
import type { ARecord, AaaaRecord, DnsLookup, DnsResult, TlsaRecord } from '../core/dns-result.ts';
import type { DestinationPolicy, EffectivePolicy } from '../core/effective-policy.ts';
import { classifyTlsaAnswer, combineTlsaStatuses, tlsaCandidates, type DaneStatus } from '../core/dane-status.ts';
import { orderAddresses, type AddressPreference, type FamilyAddress, type Random } from '../core/mx-order.ts';
import { needsTlsaLookup, resolvePolicy, type HostFacts } from '../core/policy.ts';
import type { InetProtocols } from './options.ts';

export interface HostQuery {
  nextHop: string;
  mxHost: string;
  port: number;
  route: HostFacts['route'];
  mxSecure: boolean;
  destination: DestinationPolicy;
}

export interface HostAddresses {
  addresses: FamilyAddress[];
  secure: boolean;
  canonicalName: string;
}

export type HostResolution =
  | { kind: 'usable'; addresses: FamilyAddress[]; facts: HostFacts; policy: Extract<EffectivePolicy, { kind: 'connect' }> }
  | { kind: 'skip'; dsn: string; reason: string; cause: RefusalCause; permanent: boolean; facts?: HostFacts; policy?: Extract<EffectivePolicy, { kind: 'skip' }> };

export interface HostLookupContext {
  dns: DnsLookup;
  inetProtocols: InetProtocols;
  addressPreference: AddressPreference;
  random?: Random;
}

type AddrResult = DnsResult<ARecord> | DnsResult<AaaaRecord>;

function nameError(host: string, type: string, tryAgain: boolean): string {
  return `Host or domain name not found. Name service error for name=${host} type=${type}: Host not found${tryAgain ? ', try again' : ''}`;
}

/** A/AAAA for one host; a `skip` when nothing usable came back. */
export async function lookupAddresses(ctx: HostLookupContext, host: string): Promise<HostAddresses | Extract<HostResolution, { kind: 'skip' }>> {
  if (isIP(host) !== 0) return { addresses: [{ address: host, family: isIP(host) === 6 ? 6 : 4 }], secure: false, canonicalName: host };
  const types: Array<'A' | 'AAAA'> = ctx.inetProtocols === 'ipv4' ? ['A'] : ctx.inetProtocols === 'ipv6' ? ['AAAA'] : ['A', 'AAAA'];
  const results: Array<[string, AddrResult]> = await Promise.all(types.map(async (t) => [t, await ctx.dns.lookup(host, t)] as [string, AddrResult]));
  const addresses: FamilyAddress[] = [];
  let secure = true;
  let canonicalName = host;
  let found = false;
  for (const [, r] of results) {
    if (r.kind !== 'secure' && r.kind !== 'insecure') continue;
    if (r.records.length === 0) continue;
    if (!found) canonicalName = r.canonicalName;
    found = true;
    secure &&= r.kind === 'secure';
    for (const rec of r.records) addresses.push({ address: rec.address, family: rec.type === 'AAAA' ? 6 : 4 });
  }
  if (found) return { addresses: orderAddresses(addresses, ctx.addressPreference, ctx.random), secure, canonicalName };
  // C1/C4: permanent only when every answer is a denial; anything else defers.
  const notDenied = results.find(([, r]) => r.kind !== 'nxdomain' && r.kind !== 'nodata');
  if (notDenied) return { kind: 'skip', dsn: '4.4.3', reason: nameError(host, notDenied[0], true), cause: 'dns_failure', permanent: false };
  const last = results[results.length - 1]?.[0] ?? 'A';
  return { kind: 'skip', dsn: '5.4.4', reason: nameError(host, last, false), cause: 'dns_failure', permanent: true };
}

/** TLSA per RFC 7672 §2.2.3 at the candidate owner names, combined (C11). */
export async function lookupDane(dns: DnsLookup, port: number, host: string, addr: { canonicalName: string; secure: boolean }): Promise<DaneStatus> {
  const statuses: DaneStatus[] = [];
  for (const c of tlsaCandidates(port, host, addr)) {
    const result: DnsResult<TlsaRecord> = await dns.lookup(c.owner, 'TLSA');
    const status = classifyTlsaAnswer(result, c.base);
    statuses.push(status);
    if (status.kind !== 'not-applicable') break; // first non-"not applicable" wins; a tempfail never falls back (C11)
  }
  return combineTlsaStatuses(statuses);
}

/** Addresses, TLSA and policy for one MX host. */
export async function resolveHost(ctx: HostLookupContext, q: HostQuery): Promise<HostResolution> {
  const addr = await lookupAddresses(ctx, q.mxHost);
  if ('kind' in addr) return addr;
  // C10: no TLSA lookup unless the address records are secure (and the level uses DANE).
  const dane = needsTlsaLookup(q.destination, addr.secure)
    ? await lookupDane(ctx.dns, q.port, q.mxHost, { canonicalName: addr.canonicalName, secure: addr.secure })
    : null;
  const facts: HostFacts = {
    nextHop: q.nextHop, mxHost: q.mxHost, port: q.port, route: q.route,
    mxSecure: q.mxSecure, addressesSecure: addr.secure, dane,
  };
  const policy = resolvePolicy(q.destination, facts);
  if (policy.kind === 'skip') return { kind: 'skip', dsn: policy.dsn, reason: policy.message, cause: policy.cause, permanent: false, facts, policy };
  return { kind: 'usable', addresses: addr.addresses, facts, policy };
}
