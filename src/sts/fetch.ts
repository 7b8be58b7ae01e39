/**
 * Fetch an MTA-STS policy over HTTPS (RFC 8461 §3.3), trying every address
 * of `mta-sts.DOMAIN`.
 *
 * Contract (`fetchStsPolicy(domain, opts)` → core `StsFetchOutcome`):
 * - URL `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`; the host's A and
 *   AAAA records come from the relay's DNS client (no DNSSEC required,
 *   §10.1); each address is tried in turn (A first, then AAAA) until one
 *   gives a usable policy;
 * - TLS: SNI and the Host header are `mta-sts.DOMAIN`; the chain must
 *   validate against `opts.ca` (the PEMs of `tls.ca_file`) or, when unset,
 *   Node's root store, and a DNS-ID must match `mta-sts.DOMAIN` (§3.3);
 *   failure → `sts-webpki-invalid`;
 * - only `200` counts; redirects are never followed and nothing is cached
 *   by HTTP (§3.3) → `sts-policy-fetch-error`;
 * - the media type must be `text/plain` and the body at most `maxBytes`
 *   (64 KiB by default, §3.3), else `sts-policy-invalid`; the body is
 *   parsed by core/sts-policy.ts (its failures are `sts-policy-invalid`);
 * - time is bounded twice: `connectTimeoutMs` per address until the TLS
 *   handshake completes, and `totalTimeoutMs` for the whole fetch over all
 *   addresses (§3.3: an attacker must not stall delivery);
 * - when every address fails, the most telling failure is returned
 *   (webpki > invalid > fetch error). Never throws.
 */
import https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { DnsLookup } from '../core/dns-result.ts';
import type { StsFetchOutcome } from '../core/sts-cache-rules.ts';
import { parseStsPolicy } from '../core/sts-policy.ts';

export const STS_POLICY_PATH = '/.well-known/mta-sts.txt';
export const STS_MAX_POLICY_BYTES = 65_536;

export interface StsFetchOptions {
  dns: DnsLookup;
  /** PEM trust anchors (tls.ca_file); undefined: Node's root store. */
  ca?: string[] | undefined;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** Default 65536 (§3.3). */
  maxBytes?: number;
  /** Default 443; the lab points it at its loopback server. */
  port?: number;
}

type Failure = Extract<StsFetchOutcome, { kind: 'failure' }>;
const RANK: Record<Failure['result'], number> = { 'sts-webpki-invalid': 3, 'sts-policy-invalid': 2, 'sts-policy-fetch-error': 1 };

function failure(result: Failure['result'], reason: string): Failure {
  return { kind: 'failure', result, reason };
}

/** The addresses of the policy host, A then AAAA; a failure only when neither lookup gave any. */
async function policyHostAddresses(dns: DnsLookup, host: string): Promise<string[] | Failure> {
  const [a, aaaa] = await Promise.all([dns.lookup(host, 'A'), dns.lookup(host, 'AAAA')]);
  const out: string[] = [];
  const problems: string[] = [];
  for (const r of [a, aaaa]) {
    if (r.kind === 'secure' || r.kind === 'insecure') out.push(...r.records.map((x) => x.address));
    else problems.push(r.kind === 'failure' ? `${r.reason}` : r.kind);
  }
  if (out.length > 0) return out;
  return failure('sts-policy-fetch-error', `no address for ${host} (${problems.join(', ')})`);
}

const WEBPKI_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|ERR_TLS_CERT/;

function classifyError(err: NodeJS.ErrnoException, ip: string): Failure {
  const code = err.code ?? '';
  if (WEBPKI_CODES.test(code)) return failure('sts-webpki-invalid', `${ip}: certificate not valid: ${code} ${err.message}`);
  return failure('sts-policy-fetch-error', `${ip}: ${code || 'error'} ${err.message}`);
}

function readBody(res: IncomingMessage, ip: string, maxBytes: number): Promise<StsFetchOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        resolve(failure('sts-policy-invalid', `${ip}: policy larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', (err) => resolve(classifyError(err, ip)));
    res.on('end', () => {
      const parsed = parseStsPolicy(Buffer.concat(chunks).toString('utf8'));
      resolve(parsed.kind === 'policy' ? parsed : failure('sts-policy-invalid', `${ip}: ${parsed.reason}`));
    });
  });
}

function checkResponse(res: IncomingMessage, ip: string, maxBytes: number): Failure | null {
  if (res.statusCode !== 200) return failure('sts-policy-fetch-error', `${ip}: HTTP status ${res.statusCode ?? '?'} (only 200 is accepted, redirects are not followed)`);
  const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'text/plain') return failure('sts-policy-invalid', `${ip}: media type "${type ?? ''}" is not text/plain`);
  const length = Number(res.headers['content-length'] ?? 0);
  if (length > maxBytes) return failure('sts-policy-invalid', `${ip}: policy larger than ${maxBytes} bytes (Content-Length ${length})`);
  return null;
}

interface Attempt { host: string; ip: string; port: number; ca: string[] | undefined; connectMs: number; totalMs: number; maxBytes: number }

function fetchFrom(a: Attempt): Promise<StsFetchOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: StsFetchOutcome): void => { if (!done) { done = true; clearTimeout(total); clearTimeout(connect); resolve(r); } };
    const req = https.request({
      host: a.ip, port: a.port, path: STS_POLICY_PATH, method: 'GET', agent: false, servername: a.host,
      headers: { host: a.port === 443 ? a.host : `${a.host}:${a.port}`, accept: 'text/plain', 'user-agent': 'dane-relay' },
      ca: a.ca, rejectUnauthorized: true,
      checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(a.host, cert),
    });
    const connect = setTimeout(() => req.destroy(Object.assign(new Error(`no TLS connection within ${a.connectMs} ms`), { code: 'ETIMEDOUT' })), a.connectMs);
    const total = setTimeout(() => req.destroy(Object.assign(new Error(`fetch not finished within the total timeout`), { code: 'ETIMEDOUT' })), a.totalMs);
    req.on('socket', (s) => s.once('secureConnect', () => clearTimeout(connect)));
    req.on('error', (err: NodeJS.ErrnoException) => finish(classifyError(err, a.ip)));
    req.on('response', (res) => {
      const bad = checkResponse(res, a.ip, a.maxBytes);
      if (bad) { res.destroy(); finish(bad); return; }
      void readBody(res, a.ip, a.maxBytes).then(finish);
    });
    req.end();
  });
}

export async function fetchStsPolicy(domain: string, opts: StsFetchOptions): Promise<StsFetchOutcome> {
  const host = `mta-sts.${domain.toLowerCase().replace(/\.+$/, '')}`;
  const deadline = Date.now() + opts.totalTimeoutMs;
  const addresses = await policyHostAddresses(opts.dns, host);
  if (!Array.isArray(addresses)) return addresses;
  let worst: Failure | null = null;
  for (const ip of addresses) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const r = await fetchFrom({
      host, ip, port: opts.port ?? 443, ca: opts.ca, connectMs: Math.min(opts.connectTimeoutMs, remaining), totalMs: remaining,
      maxBytes: opts.maxBytes ?? STS_MAX_POLICY_BYTES,
    });
    if (r.kind === 'policy') return r;
    if (worst === null || RANK[r.result] > RANK[worst.result]) worst = r;
  }
  return worst ?? failure('sts-policy-fetch-error', `${host}: total timeout of ${opts.totalTimeoutMs} ms reached`);
}
