/**
 * The MX step of routing (RFC 5321 §5.1, RFC 7505, RFC 7672 §2.2.1–2.2.2;
 * checklist C3, C9, C29) and the ordering/limits of the addresses tried
 * (Postfix `smtp_mx_address_limit`, `smtp_address_preference`).
 *
 * Contract (pure; randomness is injected, never throws):
 * - `planMx` turns the MX lookup result into hosts to try or a final answer:
 *   records → hosts sorted by preference, equal preferences shuffled, duplicate
 *   names kept once at their lowest preference, `secure` = the MX RRset
 *   validated; NODATA → implicit MX: the domain itself (RFC 5321 §5.1, C9);
 *   a lone `MX 0 .` → bounce 5.1.10 (null MX, RFC 7505, C29; a `.` among other
 *   records is ignored); NXDOMAIN → bounce 5.1.2; a lookup failure → defer
 *   4.4.3 with no fall-back to address records (C3).
 * - `orderAddresses` orders one host's addresses by the configured family
 *   preference (`ipv4`/`ipv6` first, `any` = shuffled).
 * - `limitTargets` truncates the flat list of (host, address) pairs to the
 *   address limit (0 = no limit).
 */
import type { DnsResult, MxRecord } from './dns-result.ts';
import { normaliseName } from './reference-names.ts';

export interface MxHost { host: string; preference: number }

export type MxPlan =
  | { kind: 'hosts'; route: 'mx' | 'implicit'; mxSecure: boolean; hosts: MxHost[] }
  | { kind: 'bounce'; dsn: string; diagnostic: string; cause: 'no_such_domain' | 'null_mx' }
  | { kind: 'defer'; dsn: string; diagnostic: string; cause: 'dns_failure' };

export type AddressPreference = 'any' | 'ipv4' | 'ipv6';
export interface FamilyAddress { address: string; family: 4 | 6 }

/** A random source in [0, 1); Math.random by default, a fixed sequence in tests. */
export type Random = () => number;

function shuffle<T>(items: T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

const normHost = normaliseName;
const isRoot = (h: string): boolean => normHost(h) === '' || h.trim() === '.';

/** Sort by preference, shuffle within equal preference (RFC 5321 §5.1), one entry per host name. */
export function sortMx(records: Array<Pick<MxRecord, 'preference' | 'exchange'>>, random: Random = Math.random): MxHost[] {
  const best = new Map<string, number>();
  for (const r of records) {
    if (isRoot(r.exchange)) continue;
    const host = normHost(r.exchange);
    const prev = best.get(host);
    if (prev === undefined || r.preference < prev) best.set(host, r.preference);
  }
  const byPref = new Map<number, MxHost[]>();
  for (const [host, preference] of best) {
    const group = byPref.get(preference) ?? [];
    group.push({ host, preference });
    byPref.set(preference, group);
  }
  const prefs = [...byPref.keys()].sort((a, b) => a - b);
  return prefs.flatMap((p) => shuffle((byPref.get(p) ?? []).sort((a, b) => a.host.localeCompare(b.host)), random));
}

/** RFC 7505 §3: exactly one MX record, with an empty exchange (the root). */
export function isNullMx(records: Array<Pick<MxRecord, 'exchange'>>): boolean {
  return records.length === 1 && records[0] !== undefined && isRoot(records[0].exchange);
}

function nameServiceError(domain: string, tryAgain: boolean): string {
  return `Host or domain name not found. Name service error for name=${domain} type=MX: Host not found${tryAgain ? ', try again' : ''}`;
}

/** The MX step for a next-hop domain. */
export function planMx(domain: string, result: DnsResult<MxRecord>, random: Random = Math.random): MxPlan {
  switch (result.kind) {
    case 'failure':
      // C3: a failed MX lookup defers; never fall back to the domain's address records.
      return { kind: 'defer', dsn: '4.4.3', diagnostic: nameServiceError(domain, true), cause: 'dns_failure' };
    case 'nxdomain':
      return { kind: 'bounce', dsn: '5.1.2', diagnostic: nameServiceError(domain, false), cause: 'no_such_domain' };
    case 'nodata':
      // RFC 5321 §5.1 implicit MX; RFC 7672 §2.2.2 / C9: treated as a secure MX name.
      return { kind: 'hosts', route: 'implicit', mxSecure: result.secure, hosts: [{ host: normHost(domain), preference: 0 }] };
    case 'secure':
    case 'insecure': {
      if (isNullMx(result.records)) {
        // C29 (RFC 7505): permanent failure, no address fall-back.
        return { kind: 'bounce', dsn: '5.1.10', diagnostic: `Domain ${domain} does not accept mail (nullMX)`, cause: 'null_mx' };
      }
      const hosts = sortMx(result.records, random);
      if (hosts.length === 0) {
        return { kind: 'hosts', route: 'implicit', mxSecure: result.kind === 'secure', hosts: [{ host: normHost(domain), preference: 0 }] };
      }
      return { kind: 'hosts', route: 'mx', mxSecure: result.kind === 'secure', hosts };
    }
  }
}

/** One host's addresses in the order they are tried. */
export function orderAddresses(addresses: FamilyAddress[], preference: AddressPreference, random: Random = Math.random): FamilyAddress[] {
  if (preference === 'any') return shuffle(addresses, random);
  const first = preference === 'ipv4' ? 4 : 6;
  return [...addresses.filter((a) => a.family === first), ...addresses.filter((a) => a.family !== first)];
}

/** Keeps the first `limit` entries (0 = no limit), like Postfix `smtp_mx_address_limit`. */
export function limitTargets<T>(targets: T[], limit: number): T[] {
  return limit > 0 ? targets.slice(0, limit) : targets.slice();
}
