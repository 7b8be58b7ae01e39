/**
 * A lab MX server (smtp-server) on one loopback address, playing one of the
 * behaviours the DANE scenarios need, and recording what arrived.
 *
 * Modes:
 * - `starttls`       STARTTLS offered and working, with the configured chain;
 * - `no-starttls`    STARTTLS not listed in the EHLO reply, but the verb still
 *                    works when a client sends it blind (RFC 7672 §2.2 clients
 *                    with a secure TLSA RRset do exactly that, C14);
 * - `plaintext-only` no TLS at all: not listed and the verb answered 502;
 * - `handshake-fail` STARTTLS offered and answered 220, then the TLS handshake
 *                    fails (the server only speaks TLS 1.0, which Node clients
 *                    refuse by default);
 * - `requiretls`     like `starttls`, and REQUIRETLS offered in the EHLO inside
 *                    TLS (RFC 8689); every other mode does not offer it.
 *
 * Records, per message: envelope (with REQUIRETLS), body, whether the session was TLS, the SNI
 * the client sent and which certificate the server presented (SHA-256 of the
 * leaf DER and its name). Per session: TLS or not, SNI, whether MAIL FROM came.
 *
 * Failure modes: listen errors reject `startMxServer`; every connection is
 * accepted (no checks): the lab server is a sink. Loopback only.
 */
import { createHash } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { IssuedCert } from './certs.ts';
import { pemBundle } from './certs.ts';
import { assertLoopback } from './shared-port.ts';

export const MX_MODES = ['starttls', 'no-starttls', 'plaintext-only', 'handshake-fail', 'requiretls'] as const;
export type MxMode = (typeof MX_MODES)[number];

export interface MxServerOptions {
  host: string;
  /** 0 for an ephemeral port. */
  port: number;
  mode: MxMode;
  /** Certificate chain to present, leaf first (the leaf's key is used). Needed for every mode that speaks TLS. */
  chain?: IssuedCert[];
  /** Host name in the greeting; default `lab-mx`. */
  name?: string;
  /** Free-form label for reports (e.g. `mx1`). */
  label?: string;
}

/** What the server presented in a TLS session. */
export interface PresentedCert { sha256: string; name: string }

export interface ReceivedMessage {
  from: string;
  to: string[];
  /** The message as received (headers and body). */
  data: string;
  secure: boolean;
  sni: string | null;
  certificate: PresentedCert | null;
  remoteAddress: string;
  /** MAIL FROM carried REQUIRETLS (RFC 8689). */
  requireTls: boolean;
}

export interface SessionRecord {
  id: string;
  secure: boolean;
  sni: string | null;
  mailFrom: boolean;
}

export interface MxServer {
  host: string;
  port: number;
  mode: MxMode;
  label: string;
  /** The certificate this server presents in TLS sessions, or null. */
  presents: PresentedCert | null;
  messages(): ReceivedMessage[];
  sessions(): SessionRecord[];
  reset(): void;
  close(): Promise<void>;
}

const MAX_MESSAGE = 10 * 1024 * 1024;

function presentedOf(chain: IssuedCert[] | undefined): PresentedCert | null {
  const leaf = chain?.[0];
  if (!leaf) return null;
  return { sha256: createHash('sha256').update(leaf.der).digest('hex'), name: leaf.name };
}

function tlsOptions(mode: MxMode, chain: IssuedCert[] | undefined): Partial<SMTPServerOptions> {
  const leaf = chain?.[0];
  if (mode === 'plaintext-only') return { disabledCommands: ['AUTH', 'STARTTLS'] };
  if (!leaf || !chain) throw new Error(`mx-server: mode ${mode} needs a certificate chain`);
  const base: Partial<SMTPServerOptions> = { key: leaf.keyPem, cert: pemBundle(chain), disabledCommands: ['AUTH'] };
  if (mode === 'no-starttls') return { ...base, hideSTARTTLS: true };
  if (mode === 'requiretls') return { ...base, hideREQUIRETLS: false };
  if (mode === 'handshake-fail') {
    // Only TLS 1.0 on offer: a client with Node's default minimum (TLS 1.2) fails the handshake.
    return { ...base, minVersion: 'TLSv1', maxVersion: 'TLSv1' } as Partial<SMTPServerOptions>;
  }
  return base;
}

function readStream(stream: NodeJS.ReadableStream, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => { size += c.length; if (size <= limit) parts.push(c); });
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

function addr(a: SMTPServerSession['envelope']['mailFrom']): string {
  return a === false ? '' : a.address;
}

export async function startMxServer(opts: MxServerOptions): Promise<MxServer> {
  assertLoopback(opts.host);
  const messages: ReceivedMessage[] = [];
  const sessions = new Map<string, SessionRecord>();
  const presents = opts.mode === 'plaintext-only' ? null : presentedOf(opts.chain);
  const record = (s: SMTPServerSession): SessionRecord => {
    let r = sessions.get(s.id);
    if (!r) { r = { id: s.id, secure: false, sni: null, mailFrom: false }; sessions.set(s.id, r); }
    return r;
  };
  const server = new SMTPServer({
    ...tlsOptions(opts.mode, opts.chain),
    name: opts.name ?? 'lab-mx',
    logger: false,
    authOptional: true,
    disableReverseLookup: true,
    hideENHANCEDSTATUSCODES: false,
    size: MAX_MESSAGE,
    closeTimeout: 200,
    onConnect(session, cb) { record(session); cb(); },
    onSecure(_socket, session, cb) {
      const r = record(session);
      r.secure = true;
      r.sni = session.servername || null;
      cb();
    },
    onMailFrom(_address, session, cb) { record(session).mailFrom = true; cb(); },
    onData(stream, session, cb) {
      const r = record(session);
      readStream(stream, MAX_MESSAGE).then((data) => {
        messages.push({
          from: addr(session.envelope.mailFrom),
          to: session.envelope.rcptTo.map((a) => a.address),
          data, secure: session.secure, sni: r.sni,
          certificate: session.secure ? presents : null,
          remoteAddress: session.remoteAddress,
          requireTls: (session.envelope as { requireTLS?: boolean }).requireTLS === true,
        });
        cb();
      }, (err: Error) => cb(err));
    },
  });
  server.on('error', () => { /* a lab sink ignores client-side errors (failed handshakes included) */ });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.server.off('error', reject); resolve(); });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  let closed = false;
  return {
    host: opts.host, port, mode: opts.mode, label: opts.label ?? opts.host, presents,
    messages: () => messages.map((m) => ({ ...m, to: [...m.to] })),
    sessions: () => [...sessions.values()].map((s) => ({ ...s })),
    reset: () => { messages.length = 0; sessions.clear(); },
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
