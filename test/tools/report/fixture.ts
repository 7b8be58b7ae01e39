/**
 * A synthetic relay log in the shape the delivery helper writes (pino NDJSON,
 * dotted keys and nested objects mixed), with junk lines, and the exact counts
 * a report of it must give. Event i is at T0 + i minutes.
 */
import { ReportAccumulator, DEFAULT_LIMITS, type ReportFilter } from '../../../src/tools/report/summary.ts';

/** The report of a log text (a final newline adds no line). */
export function summariseText(text: string, filter: ReportFilter = {}, limits = DEFAULT_LIMITS) {
  const acc = new ReportAccumulator(filter, limits);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) acc.addLine(line);
  return acc.result();
}

export const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const MIN = 60_000;

type Ev = Record<string, unknown>;
const acc = (qid: string, nrcpt: number, size: number): Ev => ({ event: 'accepted', qid, nrcpt, size, msg: `${qid}: from=<s@local.test>, size=${size}, nrcpt=${nrcpt} (queue active)` });
const tlsNested = (domain: string, mx: string, state: string, dane?: string): Ev => ({
  event: 'tls', domain, mx, ip: '192.0.2.1', port: 25, tls: { state, level: 'dane', protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  ...(dane ? { dane: { result: dane } } : {}), msg: `${state} TLS connection established to ${mx}[192.0.2.1]:25`,
});
const tlsDotted = (domain: string, mx: string, state: string, dane?: string): Ev => ({
  event: 'tls', domain, mx, ip: '192.0.2.1', port: 25, 'tls.state': state, 'tls.level': 'may', ...(dane ? { 'dane.result': dane } : {}),
});
const dlv = (qid: string, rcpt: string, status: string, dsn: string, extra: Ev = {}): Ev => ({
  event: 'delivery', qid, rcpt, domain: rcpt.split('@')[1], status, dsn, ...extra,
  msg: `${qid}: to=<${rcpt}>, dsn=${dsn}, status=${status}`,
});
const skip = (domain: string, mx: string, dsn: string, reason: string): Ev => ({ event: 'host-skipped', domain, mx, ip: '192.0.2.9', dsn, reason, msg: reason });

export const EVENTS: Ev[] = [
  acc('A', 2, 1000),                                                                                          // 0
  tlsNested('example.org', 'mx.example.org', 'Verified', 'ok'),                                               // 1
  dlv('A', 'a@example.org', 'sent', '2.0.0', { 'tls.state': 'Verified', 'tls.feature': 'dane', mx: 'mx.example.org' }), // 2
  skip('broken.test', 'mx1.broken.test', '4.7.5', 'Server certificate not verified'),                        // 3
  skip('broken.test', 'mx2.broken.test', '4.7.5', 'Server certificate not verified'),                        // 4
  dlv('A', 'b@broken.test', 'deferred', '4.7.5', { diagnostic: 'Server certificate not verified', mx: 'mx2.broken.test' }), // 5
  acc('B', 1, 500),                                                                                           // 6
  dlv('B', 'c@plain.test', 'sent', '2.0.0', { mx: 'mx.plain.test', tls: { feature: 'may:none' } }),          // 7
  acc('C', 3, 2000),                                                                                          // 8
  tlsDotted('other.test', 'mx.other.test', 'Untrusted', 'not_applicable'),                                    // 9
  dlv('C', 'd@other.test', 'sent', '2.0.0', { tls: { state: 'Untrusted', feature: 'may' }, mx: 'mx.other.test' }), // 10
  skip('secure.test', 'mx.secure.test', '4.7.4', 'TLS is required, but was not offered by host mx.secure.test[192.0.2.5]'), // 11
  dlv('C', 'e@secure.test', 'deferred', '4.7.4', { diagnostic: 'TLS is required, but was not offered by host mx.secure.test[192.0.2.5]' }), // 12
  skip('fail.test', 'mx.fail.test', '4.7.5', 'TLSA lookup error for mx.fail.test:25'),                       // 13
  dlv('C', 'f@fail.test', 'deferred', '4.7.5', { diagnostic: 'TLSA lookup error for mx.fail.test:25' }),     // 14
  acc('D', 4, 300),                                                                                           // 15
  dlv('D', 'g@dnsfail.test', 'deferred', '4.4.3', { diagnostic: 'Host or domain name not found. Name service error for name=dnsfail.test type=MX: Host not found, try again' }), // 16
  dlv('D', 'h@nullmx.test', 'bounced', '5.1.10', { diagnostic: 'Domain nullmx.test does not accept mail (nullMX)' }), // 17
  dlv('D', 'i@nxdomain.test', 'bounced', '5.1.2', { diagnostic: 'Host or domain name not found. Name service error for name=nxdomain.test type=MX: Host not found' }), // 18
  tlsNested('reject.test', 'mx.reject.test', 'Verified', 'ok'),                                               // 19
  dlv('D', 'j@reject.test', 'bounced', '5.7.1', { 'tls.state': 'Verified', mx: 'mx.reject.test', diagnostic: 'host mx.reject.test[192.0.2.1] said: 550 5.7.1 <script>alert(1)</script> no thanks' }), // 20
  tlsDotted('tempfail.test', 'mx.tempfail.test', 'Anonymous'),                                                // 21
  dlv('D', 'k@tempfail.test', 'deferred', '4.2.0', { 'tls.state': 'Anonymous', mx: 'mx.tempfail.test', diagnostic: 'host said: 421 4.2.0 try later' }), // 22
  tlsNested('broken.test', 'mx3.broken.test', 'Trusted', 'ok'),                                               // 23
  dlv('A', 'b@broken.test', 'sent', '2.0.0', { 'tls.state': 'Trusted', mx: 'mx3.broken.test' }),             // 24
];

export const JUNK = ['not json at all', '[1,2]', JSON.stringify({ level: 30, time: T0, msg: 'relay started' }), '', JSON.stringify({ event: 'unknown-thing', time: T0 }), '{broken json'];

/** NDJSON text: events with pino's level/time, junk lines interleaved. */
export function syntheticLog(): string {
  const lines = EVENTS.map((e, i) => JSON.stringify({ level: 30, time: T0 + i * MIN, pid: 1, hostname: 'relay', ...e }));
  JUNK.forEach((j, k) => lines.splice(3 + k * 4, 0, j));
  return lines.join('\n') + '\n';
}

export const EXPECTED = {
  lines: EVENTS.length + JUNK.length, events: EVENTS.length, skipped: JUNK.length,
  range: { first: new Date(T0).toISOString(), last: new Date(T0 + 24 * MIN).toISOString() },
  accepted: 4, bytes: 3800, acceptedRecipients: 10,
  recipients: { sent: 4, deferred: 5, bounced: 3, expired: 0 },
  messages: { sent: 3, deferred: 3, bounced: 1, expired: 0 },
  sessions: { Verified: 2, Trusted: 1, Untrusted: 1, Anonymous: 1, none: 0 },
  /** recipients sent, by the state of their session */
  deliveries: { Verified: 1, Trusted: 1, Untrusted: 1, Anonymous: 0, none: 1 },
  dane: { ok: 3, not_applicable: 1 },
  distinctDomains: 11,
  refusals: [
    ['tlsa_mismatch', 2, 1, 0], ['starttls_missing', 1, 1, 0], ['tlsa_lookup_failure', 1, 1, 0], ['dns_failure', 0, 1, 0],
    ['no_such_domain', 0, 0, 1], ['null_mx', 0, 0, 1], ['remote_reject', 0, 0, 1], ['remote_tempfail', 0, 1, 0],
  ] as Array<[string, number, number, number]>,
  minute: MIN,
};
