/**
 * The tier-2 scenarios (real NSD, Unbound and Postfix in a network
 * namespace): one lab MX server per scenario and the outcome RFC 7672 gives,
 * shared by the relayhost test (Postfix → dane-relay → MX) and the direct
 * DANE Postfix whose maillog `dane-relay report` audits.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { IssuedCert } from '../certs.ts';

export interface Tier2Scenario {
  name: string;
  rule: string;
  rcpt: string;
  /** MX server label the lab starts for this scenario (at `mxHost`). */
  server: { label: string; host: string; mode: 'starttls' | 'plaintext-only'; cert: 'A' | 'B' };
  expect: { status: 'sent' | 'deferred'; dsn: string; verified?: boolean; sni?: string };
}

export const SCENARIOS: Tier2Scenario[] = [
  { name: 'verified: 3 1 1 matches → delivered over TLS, Verified', rule: 'C22', rcpt: 'alice@verified.good.test',
    server: { label: 'verified', host: '127.0.0.11', mode: 'starttls', cert: 'A' }, expect: { status: 'sent', dsn: '2.', verified: true, sni: 'mx-verified.good.test' } },
  { name: 'mismatch: 3 1 1 does not match → not delivered, deferred 4.7.5', rule: 'C16', rcpt: 'bob@mismatch.good.test',
    server: { label: 'mismatch', host: '127.0.0.12', mode: 'starttls', cert: 'B' }, expect: { status: 'deferred', dsn: '4.7.5' } },
  { name: 'stripped STARTTLS: TLSA published, STARTTLS not offered → deferred 4.7.4', rule: 'C14', rcpt: 'carol@stripped.good.test',
    server: { label: 'stripped', host: '127.0.0.13', mode: 'plaintext-only', cert: 'A' }, expect: { status: 'deferred', dsn: '4.7.4' } },
  { name: 'bogus TLSA (altered after signing) → host not used, deferred 4.7.5', rule: 'C4', rcpt: 'dave@badtlsa.test',
    server: { label: 'badtlsa', host: '127.0.0.50', mode: 'starttls', cert: 'A' }, expect: { status: 'deferred', dsn: '4.7.5' } },
  { name: 'insecure (unsigned zone) → delivered with opportunistic TLS, not Verified', rule: 'C2', rcpt: 'erin@unsigned.test',
    server: { label: 'unsigned', host: '127.0.0.20', mode: 'starttls', cert: 'B' }, expect: { status: 'sent', dsn: '2.', verified: false } },
  { name: 'bogus MX zone (DS/DNSKEY mismatch) → deferred 4.4.3, never delivered', rule: 'C3', rcpt: 'frank@bogus.test',
    server: { label: 'bogus', host: '127.0.0.30', mode: 'starttls', cert: 'A' }, expect: { status: 'deferred', dsn: '4.4.3' } },
];

export function spkiSha256(cert: IssuedCert): string {
  const spki = new X509Certificate(cert.der).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

export function goodTestRecords(a: IssuedCert): string {
  const lines: string[] = [];
  for (const [label, octet] of [['verified', 11], ['mismatch', 12], ['stripped', 13]] as const) {
    lines.push(`${label}.good.test. 3600 IN MX 10 mx-${label}.good.test.`);
    lines.push(`mx-${label}.good.test. 3600 IN A 127.0.0.${octet}`);
    lines.push(`_25._tcp.mx-${label}.good.test. 3600 IN TLSA 3 1 1 ${spkiSha256(a)}`);
  }
  return lines.join('\n');
}

