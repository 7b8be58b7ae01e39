/**
 * TXT lookups for MTA-STS (`_mta-sts.DOMAIN`, RFC 8461 §3.1) and TLSRPT
 * (`_smtp._tls.DOMAIN`, RFC 8460 §3), through the relay's DNS client (the
 * one way anything asks DNS; nothing is added to src/dns).
 *
 * Contract:
 * - `lookupTxtStrings(dns, name)`: `texts` (secure or insecure: neither
 *   record needs DNSSEC, RFC 8461 §10.1 / RFC 8460 §3), `absent` for
 *   NXDOMAIN/NODATA, `tempfail` for any DNS failure — never folded into
 *   "absent" (non-negotiable 1, C1). Never throws.
 * - `lookupStsTxt(dns, domain)`: the same, classified by core/sts-record.ts
 *   into the one record's id, `none` (no/several/invalid records), or
 *   `tempfail`.
 */
import type { DnsLookup } from '../core/dns-result.ts';
import type { StsTxtOutcome } from '../core/sts-cache-rules.ts';
import { parseStsTxt } from '../core/sts-record.ts';

export type TxtStrings = { kind: 'texts'; texts: string[] } | { kind: 'absent'; detail: string } | { kind: 'tempfail'; detail: string };

export async function lookupTxtStrings(dns: DnsLookup, name: string): Promise<TxtStrings> {
  let r;
  try {
    r = await dns.lookup(name, 'TXT');
  } catch (err) {
    return { kind: 'tempfail', detail: `${name}: ${(err as Error).message}` };
  }
  switch (r.kind) {
    case 'secure':
    case 'insecure':
      return { kind: 'texts', texts: r.records.map((t) => t.text) };
    case 'nxdomain':
    case 'nodata':
      return { kind: 'absent', detail: `${name}: ${r.kind}` };
    case 'failure':
      return { kind: 'tempfail', detail: `${name}: ${r.reason}${r.detail ? ` (${r.detail})` : ''}` };
  }
}

export async function lookupStsTxt(dns: DnsLookup, domain: string): Promise<StsTxtOutcome> {
  const name = `_mta-sts.${domain}`;
  const found = await lookupTxtStrings(dns, name);
  if (found.kind === 'tempfail') return found;
  if (found.kind === 'absent') return { kind: 'none', reason: `no TXT record at ${name}` };
  const record = parseStsTxt(found.texts);
  return record.kind === 'record' ? { kind: 'record', id: record.id } : { kind: 'none', reason: `${name}: ${record.reason}` };
}
