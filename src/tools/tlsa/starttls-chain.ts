/**
 * Fetch the certificate chain a live SMTP server presents (for
 * `tlsa generate --connect HOST:PORT [--starttls smtp]`).
 *
 * Contract:
 * - `--starttls smtp`: through the relay's one SMTP adapter
 *   (outbound/smtp-session `openVerifiedSession`) at level `encrypt`: greeting,
 *   EHLO, STARTTLS required (C14), handshake with SNI = `servername` (none for
 *   an IP address), EHLO again inside TLS (C32), no authentication asked (we
 *   only read what is presented), then QUIT: MAIL FROM is never sent. Failures
 *   carry the relay's Postfix-wording reason.
 * - without STARTTLS the connection is TLS from the first byte (port 465):
 *   a handshake only, no SMTP is spoken.
 * - The chain is what the server sent, leaf first (outbound `presentedChain`).
 *   Every step is bounded by `timeoutMs`; errors are `{ kind: 'error' }`
 *   values naming the stage; every socket is closed before returning.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectPolicy, SessionSettings } from '../../outbound/smtp-session.ts';
import { openVerifiedSession, presentedChain } from '../../outbound/smtp-session.ts';
import { noIssuerClientContext } from '../../outbound/trust-store.ts';

export interface FetchChainOptions {
  host: string;
  port: number;
  starttls: 'smtp' | 'none';
  /** SNI; omitted when undefined or an IP address. */
  servername?: string;
  ehloName: string;
  timeoutMs: number;
}
export type FetchChainResult =
  | { kind: 'ok'; chain: Uint8Array[]; protocol: string | null; cipher: string | null }
  | { kind: 'error'; stage: string; detail: string };

function sniOf(opts: FetchChainOptions): string | null {
  return opts.servername && net.isIP(opts.servername) === 0 ? opts.servername : null;
}

/** `encrypt`: TLS mandatory, the peer not authenticated (we read the chain, we do not judge it). */
function readOnlyPolicy(sni: string | null): ConnectPolicy {
  return {
    kind: 'connect', level: 'encrypt', configuredLevel: 'encrypt', tlsRequired: true, tlsAttempt: true, auth: { kind: 'none' },
    sni, tlsaBase: null, feature: 'encrypt', daneResult: 'not_applicable', reason: 'tlsa generate --connect: read the presented chain',
  };
}

async function viaStarttls(opts: FetchChainOptions): Promise<FetchChainResult> {
  const t = opts.timeoutMs;
  const settings: SessionSettings = {
    myhostname: opts.ehloName, connectTimeoutMs: t, commandTimeoutMs: t, clientContext: noIssuerClientContext(), trustAnchors: [],
    // every stage bounded by the one --timeout (outbound/deadline.ts); one reply at most 64 KiB, as the relay's default
    deadlines: { connectMs: t, heloMs: t, starttlsMs: t, mailMs: t, rcptMs: t, dataInitMs: t, dataXferMs: t, minDataRate: 500, dataDoneMs: t, rsetMs: t, quitMs: t },
    maxReplySize: 65_536,
  };
  const open = await openVerifiedSession({ mxHost: opts.host, ip: opts.host, port: opts.port, policy: readOnlyPolicy(sniOf(opts)) }, settings);
  if (open.kind === 'failed') return { kind: 'error', stage: open.connected ? 'starttls' : 'connect', detail: open.reason };
  open.session.quit();
  const info = open.tls;
  if (!info?.chain) return { kind: 'error', stage: 'starttls', detail: 'no TLS session' };
  return { kind: 'ok', chain: info.chain.certificates, protocol: info.protocol, cipher: info.cipher };
}

function viaImplicitTls(opts: FetchChainOptions): Promise<FetchChainResult> {
  const sni = sniOf(opts);
  return new Promise((resolve) => {
    let connected = false;
    const t = tls.connect({ host: opts.host, port: opts.port, rejectUnauthorized: false, ...(sni ? { servername: sni } : {}) });
    t.once('connect', () => { connected = true; });
    const done = (r: FetchChainResult): void => { clearTimeout(timer); t.destroy(); resolve(r); };
    const timer = setTimeout(() => done({ kind: 'error', stage: 'timeout', detail: `no answer within ${opts.timeoutMs} ms` }), opts.timeoutMs);
    t.once('secureConnect', () => done({ kind: 'ok', chain: presentedChain(t).certificates, protocol: t.getProtocol(), cipher: t.getCipher().name }));
    t.once('error', (e) => done({ kind: 'error', stage: connected ? 'handshake' : 'connect', detail: e.message }));
  });
}

export function fetchPresentedChain(opts: FetchChainOptions): Promise<FetchChainResult> {
  return opts.starttls === 'smtp' ? viaStarttls(opts) : viaImplicitTls(opts);
}
