/**
 * `tlsa match --lookup`: the TLSA RRset currently published for a host,
 * through the project's DNS client (C1, C2, C5, C7, C12).
 *
 * Contract: the owner is `_PORT._tcp.HOST` (absolute, no search list: C7).
 * Outcomes, as the relay reads them:
 * - `records`   secure RRset: the records to match against;
 * - `insecure`  RRset not DNSSEC-validated: the relay ignores it (C2);
 * - `none`      NXDOMAIN/NODATA: no DANE for this host (C5);
 * - `failure`   lookup failed: the relay would not use this host at all (C4).
 * Never throws (the DNS client returns failures as values).
 */
import type { DnsLookup, TlsaRecord } from '../../core/dns-result.ts';

export type TlsaLookupOutcome =
  | { kind: 'records'; owner: string; records: TlsaRecord[] }
  | { kind: 'insecure'; owner: string; records: TlsaRecord[] }
  | { kind: 'none'; owner: string; why: 'nxdomain' | 'nodata'; secure: boolean }
  | { kind: 'failure'; owner: string; detail: string };

export function tlsaOwner(host: string, port: number): string {
  return `_${port}._tcp.${host.trim().toLowerCase().replace(/\.+$/, '')}`;
}

export async function lookupTlsa(dns: DnsLookup, host: string, port: number): Promise<TlsaLookupOutcome> {
  const owner = tlsaOwner(host, port);
  const r = await dns.lookup(owner, 'TLSA');
  switch (r.kind) {
    case 'secure': return r.records.length > 0 ? { kind: 'records', owner, records: r.records } : { kind: 'none', owner, why: 'nodata', secure: true };
    case 'insecure': return { kind: 'insecure', owner, records: r.records };
    case 'nxdomain': case 'nodata': return { kind: 'none', owner, why: r.kind, secure: r.secure };
    case 'failure': return { kind: 'failure', owner, detail: `${r.reason}: ${r.detail}` };
  }
}
