/**
 * Test helpers for the delivery engine: small smtp-server MX instances on
 * loopback addresses sharing one port, a lab resolver, a pino logger that
 * collects events, and a RelayConfig built through the real schema.
 * Everything started here is stopped by `Lab.close()`.
 */
import { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { relayConfigSchema, type RelayConfig, type RelayConfigInput } from '../../src/config/schema.ts';
import { createDnsClient, type DnsClient } from '../../src/dns/index.ts';
import { startLabResolver, type LabResolver, type LabZone } from '../../src/lab/lab-resolver.ts';
import { chainOf, pemBundle, type IssuedCert } from '../../src/lab/certs.ts';
import { findSharedPort } from '../../src/lab/shared-port.ts';
import type { DeliveryJob } from '../../src/queue/deliverer.ts';

export interface MxStats {
  connections: number;
  tlsHandshakes: number;
  mailFrom: number;
  closes: number;
  /** SNI names the client sent, one per TLS session ('' for none). */
  sni: string[];
  messages: Array<{ from: string; to: string[]; secure: boolean; size: number; data: string; envelope?: { dsn?: unknown; rcptDsn: unknown[]; requireTLS?: boolean } }>;
}

export interface MxOptions {
  host: string;
  port: number;
  cert?: IssuedCert;
  /** false: STARTTLS not offered and refused. Default true when a cert is given. */
  starttls?: boolean;
  /** Reply for a recipient: null accepts; otherwise an SMTP error. */
  rcpt?: (address: string) => { code: number; text: string } | null;
  /** e.g. 'TLSv1.1': no handshake is possible with a modern client. */
  maxTlsVersion?: 'TLSv1' | 'TLSv1.1';
  /** false: SMTPUTF8 not offered in EHLO. Default true. */
  smtputf8?: boolean;
  /** false: DSN not offered in EHLO. Default true. */
  dsn?: boolean;
  /** true: REQUIRETLS offered in the EHLO inside TLS (RFC 8689). Default false. */
  requireTls?: boolean;
  /** Host name in the greeting and EHLO reply. */
  name?: string;
}

export interface MxServer { host: string; stats: MxStats; close(): Promise<void> }

export async function startMx(o: MxOptions): Promise<MxServer> {
  const stats: MxStats = { connections: 0, tlsHandshakes: 0, mailFrom: 0, closes: 0, sni: [], messages: [] };
  const tlsOn = o.cert !== undefined && o.starttls !== false;
  const server = new SMTPServer({
    secure: false, logger: false, authOptional: true, disableReverseLookup: true, ...(o.name ? { name: o.name } : {}),
    hideDSN: o.dsn === false, hideENHANCEDSTATUSCODES: false, hideREQUIRETLS: o.requireTls !== true, closeTimeout: 200, size: 1_000_000,
    ...(o.cert ? { key: o.cert.keyPem, cert: pemBundle(chainOf(o.cert)) } : {}),
    ...(tlsOn ? {} : { disabledCommands: ['STARTTLS', 'AUTH'] }),
    ...(o.maxTlsVersion ? { maxVersion: o.maxTlsVersion } : {}),
    ...(o.smtputf8 === false ? { hideSMTPUTF8: true } : {}),
    onClose: () => { stats.closes++; },
    onConnect: (_s, cb) => { stats.connections++; cb(); },
    onSecure: (sock, _s, cb) => {
      stats.tlsHandshakes++;
      const name = (sock as unknown as { servername?: string | false }).servername;
      stats.sni.push(typeof name === 'string' ? name : '');
      cb();
    },
    onMailFrom: (_a, _s, cb) => { stats.mailFrom++; cb(); },
    onRcptTo: (addr, _s, cb) => {
      const r = o.rcpt?.(addr.address) ?? null;
      if (!r) { cb(); return; }
      cb(Object.assign(new Error(r.text), { responseCode: r.code }));
    },
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => { chunks.push(c); });
      stream.on('end', () => {
        const data = Buffer.concat(chunks);
        stats.messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, size: data.length, data: data.toString('utf8'),
          envelope: {
            dsn: (session.envelope as { dsn?: unknown }).dsn,
            rcptDsn: session.envelope.rcptTo.map((r) => (r as { dsn?: unknown }).dsn ?? null),
            requireTLS: (session.envelope as { requireTLS?: boolean }).requireTLS === true,
          },
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => { server.off('error', reject); resolve(); });
  });
  server.on('error', () => { /* client errors in tests are expected */ });
  return { host: o.host, stats, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface CollectedLog { events: Array<Record<string, unknown>>; logger: pino.Logger }

export function collectingLogger(): CollectedLog {
  const events: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk, _e, cb) { events.push(JSON.parse(String(chunk)) as Record<string, unknown>); cb(); } });
  return { events, logger: pino({ level: 'info' }, sink) };
}

export interface Lab {
  port: number;
  resolver: LabResolver;
  dns: DnsClient;
  servers: MxServer[];
  close(): Promise<void>;
}

/** A resolver with `zones`, a DNS client on it, and a port free on 127.0.0.2 and 127.0.0.3. */
export async function startLab(zones: LabZone[]): Promise<Lab> {
  const resolver = await startLabResolver({ zones });
  const dns = createDnsClient({
    servers: [{ host: resolver.host, port: resolver.port }], trustedNetworks: ['127.0.0.0/8'], timeoutMs: 1000, attempts: 1,
    cache: { maxEntries: 1000, maxTtlSeconds: 300, failureTtlSeconds: 1, negativeMaxTtlSeconds: 300 },
  });
  const port = await findSharedPort(['127.0.0.2', '127.0.0.3']);
  const lab: Lab = {
    port, resolver, dns, servers: [],
    close: async () => {
      await Promise.all(lab.servers.map((s) => s.close()));
      await dns.close();
      await resolver.close();
    },
  };
  return lab;
}

export async function addMx(lab: Lab, o: Omit<MxOptions, 'port'>): Promise<MxServer> {
  const s = await startMx({ ...o, port: lab.port });
  lab.servers.push(s);
  return s;
}

export function testConfig(port: number, extra: Partial<RelayConfigInput> = {}): RelayConfig {
  const base: RelayConfigInput = {
    myhostname: 'relay.test',
    ...extra,
    delivery: { port, connect_timeout: '5s', command_timeout: '10s', ...(extra.delivery ?? {}) },
  };
  return relayConfigSchema.parse(base);
}

let seq = 0;
export function job(domain: string, recipients: string[], body = 'Subject: test\r\n\r\nhello\r\n'): DeliveryJob {
  seq++;
  return {
    queueId: `Q${seq.toString(16).toUpperCase().padStart(6, '0')}`, sender: 'sender@relay.test', domain, recipients,
    size: Buffer.byteLength(body), smtputf8: false, eightBit: false, receivedAt: Date.now(), attempt: 1,
    openBody: () => Readable.from([Buffer.from(body)]),
  };
}

/** A zone helper: TLSA record data for the lab resolver. */
export function tlsa(usage: number, selector: number, matchingType: number, data: Uint8Array): { usage: number; selector: number; matchingType: number; certificate: Buffer } {
  return { usage, selector, matchingType, certificate: Buffer.from(data) };
}

/** Polls `cond` every 10 ms, at most `maxMs`; true when it became true. */
export async function eventually(cond: () => boolean, maxMs = 5000): Promise<boolean> {
  for (let waited = 0; waited < maxMs; waited += 10) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}
