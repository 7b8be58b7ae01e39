/**
 * Check one service URL target (`smtp://`, `submission://`, `smtps://`,
 * `imap://`, `imaps://`, `https://`) and describe it as a `DomainReport`, so
 * the text and JSON output and the exit codes are those of the MX check.
 *
 * Contract:
 * - `smtp://host[:port]` is the relay's own route to the next hop
 *   `[host]:port` (no MX lookup, C9): core policy, the relay's session and
 *   verifyPeer, RFC 7672 rules — check-domain.ts with a one-entry transport
 *   table. Nothing is decided here.
 * - The other schemes (RFC 6698/7671 `service` profile): addresses through
 *   the relay's host lookup; TLSA at `_PORT._tcp.HOST` only when the
 *   addresses are DNSSEC-validated (C10), classified by core
 *   `classifyServiceTlsa` (a failed lookup is `tempfail`: the host is not
 *   used, never treated as "no TLSA", C1/C4); each address connected with SNI
 *   = host, the chain verified by core `verifyService` (with TLSA) or
 *   `validatePkix` + the name (without: PKIX only, reported as such).
 * - Verdicts: check/verdict.ts `domainVerdict` over the same steps: a TLSA
 *   lookup failure or a chain that does not authenticate is a DANE `fail`
 *   (4.7.5), an unreachable address an `error` (4.4.1 / 4.4.2).
 * Never throws for DNS/TLS outcomes.
 */
import type { RefusalCause } from '../../core/refusal-cause.ts';
import { X509Certificate } from 'node:crypto';
import { classifyServiceTlsa, verifyService, type ServiceDaneStatus } from '../../core/service-dane.ts';
import type { DaneStatus } from '../../core/dane-status.ts';
import type { UsableTlsa } from '../../core/effective-policy.ts';
import { validatePkix } from '../../core/path-validate.ts';
import { matchReferenceName } from '../../core/reference-names.ts';
import type { TlsVerdict } from '../../core/tls-verdict.ts';
import { lookupAddresses } from '../../outbound/host-lookup.ts';
import { checkDomain, type CheckDeps } from '../check/check-domain.ts';
import { markChain, tlsaReport } from '../check/marks.ts';
import { addressVerdict, domainVerdict, type Attempt, type Step } from '../check/verdict.ts';
import type { AddressReport, DomainReport, HostReport } from '../check/types.ts';
import { connectService } from './connect.ts';
import type { ServiceTarget } from './target.ts';

/** `smtp://host:port`: the relay's route to `[host]:port` (C9). */
async function checkSmtpHost(deps: CheckDeps, t: ServiceTarget): Promise<DomainReport> {
  const entries = new Map([[t.host, { host: t.host, port: t.port, bracketed: true }]]);
  const report = await checkDomain({ ...deps, route: { ...deps.route, transport: { entries } } }, t.host);
  return { ...report, domain: t.url };
}

function asDaneStatus(s: ServiceDaneStatus): DaneStatus {
  // For display only (marks.ts reads records through formatTlsa); PKIX usages are shown as usable here.
  return s as unknown as DaneStatus;
}

/** Without a secure TLSA RRset: PKIX with the host name, as a plain TLS client would. */
function pkixOnly(chain: X509Certificate[], host: string, anchors: X509Certificate[], now: Date): TlsVerdict {
  const pkix = validatePkix(chain, anchors, now);
  const leaf = chain[0];
  if (!leaf) return { state: 'Anonymous', authenticated: false, pkixTrusted: false, reason: 'no certificate presented' };
  if (!pkix.ok) return { state: 'Untrusted', authenticated: false, pkixTrusted: false, reason: `certificate not trusted: ${pkix.reason}` };
  const name = matchReferenceName(leaf, [host]);
  if (name === null) return { state: 'Trusted', authenticated: false, pkixTrusted: true, reason: `name mismatch for ${host}` };
  return { state: 'Verified', authenticated: true, pkixTrusted: true, matched: { record: `name ${name}`, depth: pkix.depth } };
}

function parseChain(chain: Uint8Array[]): X509Certificate[] {
  return chain.flatMap((der) => {
    try { return [new X509Certificate(Buffer.from(der))]; } catch { return []; }
  });
}

type Dane = ServiceDaneStatus | null;
const hasTlsa = (d: Dane): boolean => d !== null && (d.kind === 'records' || d.kind === 'unusable');

/** The verdict on a presented chain, per what DNS published (see the module contract). */
function verdictFor(deps: CheckDeps, t: ServiceTarget, dane: Dane, chain: Uint8Array[]): TlsVerdict {
  const now = deps.session.now?.() ?? new Date();
  const anchors = deps.session.trustAnchors;
  if (dane?.kind === 'records') return verifyService(dane.usable, chain, t.host, anchors, now);
  const v = pkixOnly(parseChain(chain), t.host, anchors, now);
  // No usable TLSA (C15: TLS still mandatory) or none published: nothing DANE can authenticate; PKIX is reported, not required.
  return { ...v, authenticated: true };
}

function failure(dsn: string, reason: string, connected: boolean, cause: RefusalCause): Attempt {
  return { kind: 'failed', outcome: { kind: 'next-host', dsn, diagnostic: reason, cause }, reason, connected };
}

async function checkAddress(deps: CheckDeps, t: ServiceTarget, ip: string, dane: Dane): Promise<{ report: AddressReport; attempt: Attempt }> {
  const c = await connectService({
    ip, port: t.port, servername: t.host, starttls: t.starttls, ehloName: deps.session.myhostname,
    timeoutMs: deps.session.connectTimeoutMs + deps.session.commandTimeoutMs,
  });
  const label = `${t.host}[${ip}]:${t.port}`;
  const base = { ip, port: t.port, sni: t.host, plaintextFallback: false };
  if (c.kind === 'error') {
    const noStarttls = /STARTTLS not offered/.test(c.detail);
    const [dsn, cause]: [string, RefusalCause] = hasTlsa(dane) && noStarttls ? ['4.7.4', 'starttls_missing']
      : hasTlsa(dane) && c.stage === 'handshake' ? ['4.7.5', 'tls_failure'] : [c.stage === 'connect' ? '4.4.1' : '4.4.2', 'connection_failure'];
    const reason = `${label}: ${c.stage}: ${c.detail}`;
    const attempt = failure(dsn, reason, c.connected, cause);
    return { attempt, report: { ...base, verdict: addressVerdict(attempt), reason, dsn, detail: null, tls: null, state: null, feature: hasTlsa(dane) ? 'dane?' : 'may:none', matched: null, chain: null, injectionBytes: 0 } };
  }
  const v = verdictFor(deps, t, dane, c.chain);
  const attempt: Attempt = v.authenticated ? { kind: 'open' } : failure('4.7.5', `Server certificate not verified (${label})`, true, hasTlsa(dane) ? 'tlsa_mismatch' : 'certificate_not_verified');
  const feature = dane?.kind === 'records' ? (v.authenticated ? 'dane' : '!dane') : dane?.kind === 'unusable' ? 'dane:encrypt' : `may:${v.state === 'Verified' ? 'pkix' : 'none'}`;
  const dane23 = dane?.kind === 'records' ? dane.usable.filter((r): r is UsableTlsa & typeof r => r.usage >= 2) : [];
  return {
    attempt,
    report: {
      ...base, verdict: addressVerdict(attempt), reason: attempt.kind === 'failed' ? attempt.reason : null,
      dsn: attempt.kind === 'failed' ? attempt.outcome.dsn : null, detail: v.reason ?? null,
      tls: { protocol: c.protocol, cipher: c.cipher, bits: c.bits }, state: v.state, feature, matched: v.matched ?? null,
      chain: { source: 'session', certificates: markChain(c.chain, dane23) }, injectionBytes: c.injectionBytes,
    },
  };
}

function hostReport(t: ServiceTarget, list: string[], secure: boolean | null, dane: Dane): HostReport {
  const why = secure === false ? 'address records not DNSSEC-validated: no TLSA lookup' : 'no TLSA lookup'; // C10
  const daneResult = dane === null ? 'not_applicable' : dane.kind === 'records' ? 'ok' : dane.kind === 'not-applicable' ? 'not_applicable' : dane.kind;
  return {
    host: t.host, preference: null, port: t.port, addresses: { list, secure },
    tlsa: tlsaReport(dane === null ? null : asDaneStatus(dane), t.port, why),
    policy: {
      kind: dane?.kind === 'tempfail' ? 'skip' : 'connect', level: 'dane', feature: hasTlsa(dane) ? 'dane' : 'may', daneResult,
      tlsRequired: true, auth: dane?.kind === 'records' ? `dane (${dane.usable.length} usable TLSA record(s), RFC 7671 service rules)` : 'pkix (no DANE)',
      sni: t.host, reason: `${t.scheme} service, TLSA rules of ${t.profile === 'smtp' ? 'RFC 7672' : 'RFC 6698/7671'}`,
    },
    skipped: null, connections: [],
  };
}

/** A non-SMTP service (RFC 7671 rules), as a `DomainReport`. */
async function checkGenericService(deps: CheckDeps, t: ServiceTarget): Promise<DomainReport> {
  const mx = { route: null, dnssec: `no MX lookup (${t.scheme} service: the host itself)`, records: [] };
  const addr = await lookupAddresses(deps.route, t.host);
  const steps: Step[] = [];
  let host: HostReport;
  if ('kind' in addr) {
    host = { ...hostReport(t, [], null, null), skipped: { dsn: addr.dsn, reason: addr.reason } };
    steps.push({ kind: 'skip', dsn: addr.dsn, reason: addr.reason, cause: addr.cause, permanent: addr.permanent });
  } else {
    const dane: Dane = addr.secure ? classifyServiceTlsa(await deps.route.dns.lookup(`_${t.port}._tcp.${t.host}`, 'TLSA'), t.host) : null;
    host = hostReport(t, addr.addresses.map((a) => a.address), addr.secure, dane);
    if (dane?.kind === 'tempfail') {
      const reason = `TLSA lookup error for ${t.host}:${t.port}`; // C4: never read as "no TLSA"
      host.skipped = { dsn: '4.7.5', reason };
      steps.push({ kind: 'skip', dsn: '4.7.5', reason, cause: 'tlsa_lookup_failure', permanent: false });
    } else {
      for (const a of addr.addresses) {
        const { report, attempt } = await checkAddress(deps, t, a.address, dane);
        host.connections.push(report);
        steps.push({ kind: 'address', label: `${t.host}[${a.address}]:${t.port}`, attempt });
      }
    }
  }
  const v = domainVerdict(steps, 0, t.host);
  const notes = host.tlsa.status === 'not-applicable' || host.tlsa.status === 'not-looked-up' ? ['dane: not applicable (no secure TLSA): only PKIX was checked'] : [];
  for (const c of host.connections) if (c.detail && c.verdict === 'pass') notes.push(`${t.host}[${c.ip}]: ${c.detail}`);
  return { domain: t.url, nextHop: t.host, verdict: v.verdict, reason: v.reason, dsn: v.dsn, deliverVia: v.deliverVia, notes, policy: { level: 'dane', source: `${t.scheme} URL` }, mx, hosts: [host] };
}

/** Check one service URL (see the module contract). */
export function checkService(deps: CheckDeps, t: ServiceTarget): Promise<DomainReport> {
  return t.profile === 'smtp' ? checkSmtpHost(deps, t) : checkGenericService(deps, t);
}
