/**
 * Submit a TLSRPT report to an `rua=https:` URI (RFC 8460 §5.4): POST of
 * the gzip-compressed JSON report (§5.2) as `application/tlsrpt+gzip`.
 *
 * Contract (`postReport(url, report, opts)`):
 * - the URL's host is resolved through the relay's DNS client (A, then
 *   AAAA) and each address is tried until one answers; TLS with SNI = the
 *   URL's host, PKIX against `opts.ca` (tls.ca_file) or Node's root store,
 *   name checked against the URL's host;
 * - any 2xx is success; any other status, a redirect (not followed), a
 *   connection or TLS failure, or the timeout (`timeoutMs` per address) is
 *   a failure with a reason — the report stays in the store for a retry
 *   (§5.5). Never throws.
 */
import https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { gzipSync } from 'node:zlib';
import type { DnsLookup } from '../core/dns-result.ts';
import type { TlsrptReport } from './report.ts';

export interface PostOptions {
  dns: DnsLookup;
  ca?: string[] | undefined;
  timeoutMs: number;
  userAgent?: string;
}

export type PostResult = { kind: 'sent'; status: number; ip: string } | { kind: 'failed'; reason: string };

async function addressesOf(dns: DnsLookup, host: string): Promise<string[]> {
  if (/^[\d.]+$/.test(host) || host.includes(':')) return [host.replace(/^\[|\]$/g, '')];
  const out: string[] = [];
  for (const type of ['A', 'AAAA'] as const) {
    const r = await dns.lookup(host, type);
    if (r.kind === 'secure' || r.kind === 'insecure') out.push(...r.records.map((x) => x.address));
  }
  return out;
}

function postTo(url: URL, ip: string, body: Buffer, opts: PostOptions): Promise<PostResult> {
  return new Promise((resolve) => {
    const host = url.hostname;
    const req = https.request({
      host: ip, port: url.port === '' ? 443 : Number(url.port), path: `${url.pathname}${url.search}`, method: 'POST', agent: false,
      servername: host, ca: opts.ca, rejectUnauthorized: true,
      checkServerIdentity: (_n: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
      headers: { host: url.host, 'content-type': 'application/tlsrpt+gzip', 'content-length': body.length, 'user-agent': opts.userAgent ?? 'dane-relay' },
      timeout: opts.timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ kind: 'failed', reason: `${ip}: ${err.code ?? 'error'} ${err.message}` }));
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 300 ? { kind: 'sent', status, ip } : { kind: 'failed', reason: `${ip}: HTTP status ${status}` });
    });
    req.end(body);
  });
}

export async function postReport(rawUrl: string, report: TlsrptReport, opts: PostOptions): Promise<PostResult> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { kind: 'failed', reason: `invalid URL ${rawUrl}` };
  }
  if (url.protocol !== 'https:') return { kind: 'failed', reason: `not an https: URL: ${rawUrl}` };
  const addresses = await addressesOf(opts.dns, url.hostname);
  if (addresses.length === 0) return { kind: 'failed', reason: `no address for ${url.hostname}` };
  const body = gzipSync(JSON.stringify(report));
  const reasons: string[] = [];
  for (const ip of addresses) {
    const r = await postTo(url, ip, body, opts);
    if (r.kind === 'sent') return r;
    reasons.push(r.reason);
  }
  return { kind: 'failed', reason: reasons.join('; ') };
}
