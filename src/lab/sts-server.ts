/**
 * The lab's MTA-STS policy server: HTTPS on one loopback address, serving
 * `/.well-known/mta-sts.txt` for any number of policy domains, each chosen
 * by SNI (certificate) and Host header (policy), and each playing one
 * behaviour the MTA-STS scenarios need (RFC 8461 §3.3, §10.2):
 *
 * - `serve`      200, `text/plain`, the site's policy body;
 * - `status`     another status (e.g. 404, or 301 with a Location: a
 *                redirect the relay must not follow);
 * - `hang`       the TLS handshake completes and no answer ever comes: an
 *                attacker stalling the fetch (the client's timeout ends it);
 * - `reset`      the TCP connection is destroyed on arrival: a blocked fetch;
 * - `oversize`   200 `text/plain` with a body larger than 64 KiB;
 * - `wrong-type` 200 with `text/html`.
 * The certificate a site presents is given by the caller (a lab-PKI leaf
 * for `mta-sts.DOMAIN`, or an impostor for another name: the "wrong
 * certificate" scenario). An unknown SNI name gets the first site's
 * certificate (as a shared hosting front end would).
 *
 * It is also the lab's TLSRPT https collector (RFC 8460 §5.4): `setCollector(host,
 * chain)` makes `POST` to any path of `host` accept a report; the body is
 * gunzipped when sent as `application/tlsrpt+gzip`, parsed as JSON and kept
 * in `reports` (emitted as `report`); 200 on success, 400 when the body is
 * not JSON.
 *
 * Records every request (SNI, Host, path, which site answered and how) and
 * emits `request` for each. Loopback only (throws otherwise). `close()`
 * destroys open connections, so a `hang` never keeps a test alive.
 */
import { EventEmitter } from 'node:events';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { gunzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IssuedCert } from './certs.ts';
import { pemBundle } from './certs.ts';
import { assertLoopback } from './shared-port.ts';

export type StsSiteBehaviour = 'serve' | 'status' | 'hang' | 'reset' | 'oversize' | 'wrong-type';

export interface StsSite {
  behaviour: StsSiteBehaviour;
  /** The policy file body for `serve` (sent as is: CRLF or LF as written). */
  policy?: string;
  /** For `status`: the status code (default 404). */
  status?: number;
  /** Certificate chain to present, leaf first. */
  chain: IssuedCert[];
}

export interface StsRequestRecord {
  /** The policy domain the request was for (from SNI or Host), lower case. */
  domain: string;
  sni: string | null;
  host: string | undefined;
  path: string | undefined;
  behaviour: StsSiteBehaviour | 'unknown-site';
}

export interface CollectedReport { host: string; path: string | undefined; contentType: string | undefined; json: unknown }

export interface StsServer {
  host: string;
  port: number;
  readonly requests: StsRequestRecord[];
  readonly reports: CollectedReport[];
  /** Accept TLSRPT reports POSTed to `https://HOST/...`, presenting `chain`. */
  setCollector(host: string, chain: IssuedCert[]): void;
  readonly events: EventEmitter;
  /** Set or replace the site for `mta-sts.DOMAIN`. */
  setSite(domain: string, site: StsSite): void;
  close(): Promise<void>;
}

const POLICY_HOST = /^mta-sts\.(.+)$/;

function domainOf(name: string | undefined | null): string | null {
  const m = POLICY_HOST.exec((name ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, ''));
  return m?.[1] ?? null;
}

function contextFor(site: StsSite): tls.SecureContext {
  const leaf = site.chain[0];
  if (!leaf) throw new Error('lab sts-server: a site needs a certificate chain');
  return tls.createSecureContext({ cert: pemBundle(site.chain), key: leaf.keyPem });
}

function collect(req: IncomingMessage, res: ServerResponse, host: string, done: (r: CollectedReport) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const type = req.headers['content-type'];
    try {
      const raw = Buffer.concat(chunks);
      const text = (type === 'application/tlsrpt+gzip' ? gunzipSync(raw) : raw).toString('utf8');
      done({ host, path: req.url, contentType: type, json: JSON.parse(text) as unknown });
      res.writeHead(200).end();
    } catch {
      res.writeHead(400).end();
    }
  });
}

function answer(site: StsSite, res: ServerResponse): void {
  switch (site.behaviour) {
    case 'serve':
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(site.policy ?? '');
      return;
    case 'status': {
      const status = site.status ?? 404;
      const headers = status >= 300 && status < 400 ? { location: 'https://attacker.invalid/.well-known/mta-sts.txt' } : {};
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end('no policy here\n');
      return;
    }
    case 'oversize':
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`version: STSv1\nmode: enforce\nmx: x.invalid\nmax_age: 600\n${'x: y\n'.repeat(14_000)}`);
      return;
    case 'wrong-type':
      res.writeHead(200, { 'content-type': 'text/html' }).end(site.policy ?? '');
      return;
    case 'hang':
    case 'reset':
      return; // handled at the connection level; hang never answers
  }
}

interface Entry { site: StsSite; ctx: tls.SecureContext }

/** The server's mutable state, shared by its handlers. */
class State {
  readonly sites = new Map<string, Entry>();
  readonly collectors = new Map<string, tls.SecureContext>();
  readonly requests: StsRequestRecord[] = [];
  readonly reports: CollectedReport[] = [];
  readonly events = new EventEmitter();

  lookup(name: string | null | undefined): Entry | undefined {
    return this.sites.get(domainOf(name) ?? '');
  }
  contextFor(name: string): tls.SecureContext | undefined {
    return this.collectors.get(name.toLowerCase()) ?? (this.lookup(name) ?? this.sites.values().next().value)?.ctx;
  }
  record(r: StsRequestRecord): void {
    this.requests.push(r);
    this.events.emit('request', r);
  }
}

function handleRequest(st: State, req: IncomingMessage, res: ServerResponse): void {
  const sni = (req.socket as tls.TLSSocket).servername || null;
  const reqHost = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  if (req.method === 'POST' && st.collectors.has(reqHost)) {
    collect(req, res, reqHost, (r) => { st.reports.push(r); st.events.emit('report', r); });
    return;
  }
  const domain = domainOf(req.headers.host) ?? domainOf(sni) ?? '';
  const entry = st.sites.get(domain);
  st.record({ domain, sni, host: req.headers.host, path: req.url, behaviour: entry?.site.behaviour ?? 'unknown-site' });
  if (!entry) { res.writeHead(404).end(); return; }
  answer(entry.site, res);
}

/** `reset`: the connection is dropped as soon as TLS is up (the SNI names the site). */
function resetIfBlocked(st: State, s: tls.TLSSocket): void {
  const sni = s.servername || null;
  if (st.lookup(sni)?.site.behaviour !== 'reset') return;
  st.record({ domain: domainOf(sni) ?? '', sni, host: undefined, path: undefined, behaviour: 'reset' });
  s.destroy();
}

export async function startStsServer(opts: { host: string; port?: number }): Promise<StsServer> {
  assertLoopback(opts.host);
  const st = new State();
  const sockets = new Set<Socket>();
  const server = https.createServer({ SNICallback: (name, cb) => cb(null, st.contextFor(name)) }, (req, res) => handleRequest(st, req, res));
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.on('secureConnection', (s: tls.TLSSocket) => resetIfBlocked(st, s));
  server.on('tlsClientError', () => undefined); // a client refusing our certificate is a scenario, not an error
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => { server.off('error', reject); resolve(); });
  });
  return {
    host: opts.host,
    port: (server.address() as AddressInfo).port,
    requests: st.requests,
    reports: st.reports,
    events: st.events,
    setCollector: (host, chain) => {
      const leaf = chain[0];
      if (!leaf) throw new Error('lab sts-server: a collector needs a certificate chain');
      st.collectors.set(host.toLowerCase(), tls.createSecureContext({ cert: pemBundle(chain), key: leaf.keyPem }));
    },
    setSite: (domain, site) => { st.sites.set(domain.toLowerCase().replace(/\.$/, ''), { site, ctx: contextFor(site) }); },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
