/**
 * Why a host was skipped or a recipient was not delivered: one cause per
 * refusal, from the DSN code and the Postfix-wording text.
 *
 * Contract (pure, total): every input maps to exactly one `Cause`; unknown
 * shapes become `other`. Rules, first match wins:
 * - text "TLSA lookup error"                       → tlsa-lookup-failure (C4, 4.7.5)
 * - 4.7.5 + "certificate not verified"             → tlsa-mismatch (C16)
 * - 4.7.4, or "TLS is required, but was not offered" → starttls-missing (C14)
 * - other 4.7.x                                    → tls-failure
 * - 4.4.3, 5.4.4 (MX host without address)        → dns-failure (C3)
 * - 4.4.1, 4.4.2 (connect failed / lost)           → connection-failure
 * - 5.1.10                                         → null-mx (C29)
 * - 5.1.2                                          → no-such-domain
 * - other 5.x.x → remote-reject; other 4.x.x → remote-tempfail
 */

export type Cause =
  | 'tlsa-mismatch' | 'starttls-missing' | 'tlsa-lookup-failure' | 'tls-failure' | 'dns-failure'
  | 'connection-failure' | 'null-mx' | 'no-such-domain' | 'remote-reject' | 'remote-tempfail' | 'other';

export const CAUSE_LABELS: Record<Cause, string> = {
  'tlsa-mismatch': 'TLSA mismatch (server certificate not verified)',
  'starttls-missing': 'STARTTLS missing (TLS required, not offered)',
  'tlsa-lookup-failure': 'TLSA lookup failure',
  'tls-failure': 'TLS failure (handshake or policy)',
  'dns-failure': 'DNS failure',
  'connection-failure': 'connection failed or lost',
  'null-mx': 'null MX (domain accepts no mail)',
  'no-such-domain': 'no such domain',
  'remote-reject': 'rejected by remote server',
  'remote-tempfail': 'temporary failure at remote server',
  other: 'other',
};

export function classifyCause(dsn: string | undefined, text: string): Cause {
  const t = text.toLowerCase();
  const d = dsn ?? '';
  if (t.includes('tlsa lookup error')) return 'tlsa-lookup-failure';
  if (d === '4.7.5' && t.includes('certificate not verified')) return 'tlsa-mismatch';
  if (d === '4.7.4' || t.includes('tls is required, but was not offered')) return 'starttls-missing';
  if (/^4\.7\.\d+$/.test(d)) return 'tls-failure';
  if (d === '4.4.3' || d === '5.4.4') return 'dns-failure';
  if (d === '4.4.1' || d === '4.4.2') return 'connection-failure';
  if (d === '5.1.10') return 'null-mx';
  if (d === '5.1.2') return 'no-such-domain';
  if (/^5\.\d+\.\d+$/.test(d)) return 'remote-reject';
  if (/^4\.\d+\.\d+$/.test(d)) return 'remote-tempfail';
  if (t.includes('certificate not verified')) return 'tlsa-mismatch';
  return 'other';
}
