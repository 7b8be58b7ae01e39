/**
 * A loopback world for service-URL checks and the monitor: the lab resolver
 * (signed zone `svc`), plain-TLS and IMAP-STARTTLS servers (node:tls) and one
 * lab MX server, each on its own loopback address and ephemeral port; TLSA
 * records at `_PORT._tcp.HOST` for the ports actually bound.
 *
 * Names (zone `svc`):
 * - www.svc       TLS :https, chain leaf(www.svc)+public CA; TLSA 3 1 1 of the leaf → pass
 * - bad.svc       same server; TLSA 3 1 1 with one hex digit changed → fail 4.7.5
 * - pkixee.svc    TLS, leaf(pkixee.svc, pkixta.svc)+public CA; TLSA 1 1 1 of the leaf
 *                 → pass only when the public root is the PKIX store (--ca-file)
 * - pkixta.svc    same server; TLSA 0 0 1 of the public ROOT (not presented: the store's anchor)
 * - servfail.svc  TLSA answers SERVFAIL → fail, TLSA lookup error
 * - notlsa.svc    www's server, no TLSA (secure denial) → pass, dane not applicable
 * - mail.svc      IMAP with STARTTLS, self-signed leaf; TLSA 3 1 1
 * - mx.svc        lab MX (STARTTLS); TLSA 3 1 1 → smtp:// pass Verified
 * - pkixmx.svc    same MX; TLSA 1 1 1 only: unusable for SMTP (RFC 7672), shown as such
 * Everything started is stopped by `close()`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { startLabResolver, type LabRecord, type LabResolver, type LabZone } from '../../../src/lab/lab-resolver.ts';
import { startMxServer, type MxServer } from '../../../src/lab/mx-server.ts';
import { createIntermediateCa, createRootCa, createSelfSigned, issueLeaf, pemBundle, type IssuedCert } from '../../../src/lab/certs.ts';
import { tlsaDataFor } from '../../../src/core/tlsa.ts';

export interface TlsService { host: string; port: number; close(): Promise<void> }

/** A TLS server on host:0, TLS from the start or after IMAP STARTTLS (RFC 3501 §6.2.1). */
export async function startTlsService(host: string, chain: IssuedCert[], starttls: 'none' | 'imap'): Promise<TlsService> {
  const creds = { key: chain[0]?.keyPem, cert: pemBundle(chain) };
  const context = tls.createSecureContext(creds);
  const sockets = new Set<net.Socket>();
  const secure = new Set<tls.TLSSocket>();
  const onSecure = (s: tls.TLSSocket): void => {
    secure.add(s);
    s.on('error', () => undefined).on('close', () => secure.delete(s));
    s.end('* BYE\r\n');
  };
  const server = starttls === 'none'
    ? tls.createServer(creds, onSecure)
    : net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('* OK [CAPABILITY IMAP4rev1 STARTTLS] lab IMAP ready\r\n');
      let buf = '';
      const onData = (c: Buffer): void => {
        buf += c.toString('latin1');
        if (!buf.includes('\n')) return;
        socket.off('data', onData);
        if (!/^a1 STARTTLS/i.test(buf)) { socket.end('a1 BAD\r\n'); return; }
        socket.write('a1 OK Begin TLS negotiation now\r\n', () => {
          const t = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
          t.on('secure', () => onSecure(t)).on('error', () => undefined);
        });
      };
      socket.on('data', onData);
    });
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, () => resolve()); });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host, port,
    close: () => new Promise((resolve) => { for (const s of [...secure, ...sockets]) s.destroy(); server.close(() => resolve()); }),
  };
}

export interface ServiceLab {
  resolver: LabResolver;
  www: TlsService; pkix: TlsService; imap: TlsService; mx: MxServer; mxPort: number;
  wwwLeaf: IssuedCert; publicRoot: IssuedCert;
  zone: LabZone;
  /** --resolver and --timeout */
  args: string[];
  close(): Promise<void>;
}

const IP = { www: '127.0.0.21', pkix: '127.0.0.22', imap: '127.0.0.23', mx: '127.0.0.24' } as const;
const rec = (name: string, type: LabRecord['type'], data: unknown): LabRecord => ({ name, type, data });
export const tlsaRec = (port: number, host: string, usage: number, selector: 0 | 1, data: Uint8Array): LabRecord =>
  rec(`_${port}._tcp.${host}`, 'TLSA', { usage, selector, matchingType: 1, certificate: Buffer.from(data) });

export function flip(data: Uint8Array): Buffer {
  const b = Buffer.from(data);
  b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 0x01;
  return b;
}

export async function startServiceLab(): Promise<ServiceLab> {
  const publicRoot = await createRootCa('Service Lab Public Root');
  const ca = await createIntermediateCa(publicRoot, 'Service Lab Issuing CA');
  const wwwLeaf = await issueLeaf(ca, { dnsNames: ['www.svc'] });
  const pkixLeaf = await issueLeaf(ca, { dnsNames: ['pkixee.svc', 'pkixta.svc'] });
  const selfSigned = await createSelfSigned({ dnsNames: ['mail.svc', 'mx.svc', 'pkixmx.svc'] });
  const resolver = await startLabResolver({ zones: [] });
  const started: Array<{ close(): Promise<void> }> = [resolver];
  try {
    const www = await startTlsService(IP.www, [wwwLeaf, ca], 'none'); started.push(www);
    const pkix = await startTlsService(IP.pkix, [pkixLeaf, ca], 'none'); started.push(pkix);
    const imap = await startTlsService(IP.imap, [selfSigned], 'imap'); started.push(imap);
    const mx = await startMxServer({ host: IP.mx, port: 0, mode: 'starttls', chain: [selfSigned] }); started.push(mx);
    const mxPort = mx.port;
    const leaf = (c: IssuedCert): Uint8Array => tlsaDataFor(c.der, 1, 1);
    const zone: LabZone = {
      origin: 'svc', signed: true,
      servfail: [{ name: `_${www.port}._tcp.servfail.svc`, type: 'TLSA' }],
      records: [
        rec('svc', 'NS', 'ns.svc'),
        ...['www', 'bad', 'servfail', 'notlsa'].map((n) => rec(`${n}.svc`, 'A', IP.www)),
        ...['pkixee', 'pkixta'].map((n) => rec(`${n}.svc`, 'A', IP.pkix)),
        rec('mail.svc', 'A', IP.imap), rec('mx.svc', 'A', IP.mx), rec('pkixmx.svc', 'A', IP.mx),
        tlsaRec(www.port, 'www.svc', 3, 1, leaf(wwwLeaf)),
        tlsaRec(www.port, 'bad.svc', 3, 1, flip(leaf(wwwLeaf))),
        tlsaRec(pkix.port, 'pkixee.svc', 1, 1, leaf(pkixLeaf)),
        tlsaRec(pkix.port, 'pkixta.svc', 0, 0, tlsaDataFor(publicRoot.der, 0, 1)),
        tlsaRec(imap.port, 'mail.svc', 3, 1, leaf(selfSigned)),
        tlsaRec(mxPort, 'mx.svc', 3, 1, leaf(selfSigned)),
        tlsaRec(mxPort, 'pkixmx.svc', 1, 1, leaf(selfSigned)),
      ],
    };
    resolver.setZones([zone]);
    const close = async (): Promise<void> => { for (const s of started.reverse()) await s.close(); };
    return { resolver, www, pkix, imap, mx, mxPort, wwwLeaf, publicRoot, zone, args: ['--resolver', resolver.address, '--timeout', '5'], close };
  } catch (err) {
    for (const s of started.reverse()) await s.close();
    throw err;
  }
}
