/**
 * Whether a policy domain asks for TLS reports, and where: the
 * `_smtp._tls.DOMAIN` TXT record (RFC 8460 §3) through the relay's DNS
 * client. Three answers: the record, `none` (absent or not usable, so no
 * report is sent), or `tempfail` (a DNS failure: the report is kept and
 * sending is retried later; never read as "does not want reports").
 */
import type { DnsLookup } from '../core/dns-result.ts';
import { lookupTxtStrings } from '../sts/txt-lookup.ts';
import { parseTlsrptTxt, type TlsrptRecord } from './record.ts';

export type TlsrptLookup = TlsrptRecord | { kind: 'tempfail'; detail: string };

export async function lookupTlsrpt(dns: DnsLookup, domain: string): Promise<TlsrptLookup> {
  const name = `_smtp._tls.${domain}`;
  const found = await lookupTxtStrings(dns, name);
  if (found.kind === 'tempfail') return found;
  if (found.kind === 'absent') return { kind: 'none', reason: `no TXT record at ${name}` };
  return parseTlsrptTxt(found.texts);
}
