/**
 * `tlsa match --lookup`: the TLSA RRset the relay would use for a host, found
 * and classified by the relay's own functions (outbound/host-lookup
 * `lookupAddresses` + `lookupDane`, core/dane-status; RFC 7672 §2.2.3; C1,
 * C2, C4, C5, C7, C10, C11, C12).
 *
 * Contract: the host's address records are looked up first, as the relay does,
 * only to learn a secure CNAME expansion (C11: `_PORT._tcp.<expanded>` first,
 * then `_PORT._tcp.<original>`; a failure at the expanded name does not fall
 * back). Owner names are absolute (C7). Outcomes:
 * - `records`   a secure RRset (usable or not): the records to match against;
 * - `insecure`  no validated RRset or denial: the relay ignores it (C2);
 * - `none`      validated NXDOMAIN/NODATA: no DANE for this host (C5);
 * - `failure`   lookup failed: the relay would not use this host at all (C4).
 * `addressesSecure: false` says the relay would not even ask for TLSA (C10):
 * the RRset is still looked up, for the operator. Never throws.
 */
import { normaliseName } from '../../core/reference-names.ts';
import type { DnsLookup, TlsaRecord } from '../../core/dns-result.ts';
import { lookupAddresses, lookupDane } from '../../outbound/host-lookup.ts';

export type TlsaLookupOutcome = { addressesSecure: boolean } & (
  | { kind: 'records'; owner: string; records: TlsaRecord[] }
  | { kind: 'insecure'; owner: string }
  | { kind: 'none'; owner: string; why: 'nxdomain' | 'nodata' }
  | { kind: 'failure'; owner: string; detail: string });

export function tlsaOwner(host: string, port: number): string {
  return `_${port}._tcp.${normaliseName(host)}`;
}

export async function lookupTlsa(dns: DnsLookup, host: string, port: number): Promise<TlsaLookupOutcome> {
  const found = await lookupAddresses({ dns, inetProtocols: 'all', addressPreference: 'any' }, host);
  // No address records: no CNAME to follow; the TLSA RRset at the name itself is still shown.
  const addr = 'kind' in found ? { canonicalName: host, secure: false } : found;
  const status = await lookupDane(dns, port, host, addr);
  const owner = tlsaOwner(host, port);
  const addressesSecure = addr.secure;
  switch (status.kind) {
    case 'records': case 'unusable': return { kind: 'records', owner: tlsaOwner(status.base, port), records: status.rrset, addressesSecure };
    case 'not-applicable': return status.why === 'insecure' ? { kind: 'insecure', owner, addressesSecure } : { kind: 'none', owner, why: status.why, addressesSecure };
    case 'tempfail': return { kind: 'failure', owner, detail: status.detail, addressesSecure };
  }
}
