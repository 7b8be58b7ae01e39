/**
 * The one place the TLS level for an MX host is decided, with Postfix's
 * `smtp_tls_security_level` semantics (RFC 7672 §2.2, §2.2.1, §2.2.2,
 * §2.2.3, §6, §8.1; checklist C4, C8, C9, C10, C14–C19).
 *
 * Contract (`resolvePolicy`), for `dane` / `dane-only`, per MX host:
 * - address records insecure → no TLSA lookup (C10): `dane` → `may`,
 *   `dane-only` → skip 4.7.5;
 * - TLSA lookup failed → skip 4.7.5 `TLSA lookup error for HOST:PORT`, at
 *   every level and insecure-MX policy: never a downgrade (C4);
 * - TLSA securely absent or insecure → `dane` → `may` (C2, C5), `dane-only`
 *   → skip (C19);
 * - MX RRset insecure (route `mx` only; implicit MX and `[bracketed]` next
 *   hops count as secure, C9) with secure TLSA → `insecureMxPolicy` (C8):
 *   `dane` → authenticate as half-dane (logged `Trusted`), `encrypt` → TLS
 *   mandatory unauthenticated, `may` → TLSA ignored; under `dane-only` only
 *   `dane` is acceptable, the others skip;
 * - secure RRset, nothing usable → TLS mandatory, unauthenticated (`encrypt`)
 *   (C14, C15); `dane-only` → skip;
 * - usable records → TLS mandatory, authenticate by TLSA, SNI = the TLSA
 *   base domain (C14, C17); reference names for DANE-TA: the base domain,
 *   the MX host name and, when the MX RRset is secure, the next hop (§3.2.2).
 * Other levels: `none` (no TLS), `may` (TLS attempted), `encrypt`,
 * `fingerprint` (leaf certificate or public-key digest), `verify` (default
 * match `hostname`) and `secure` (default `nexthop:dot-nexthop`): PKIX chain
 * to the local CA store plus a name match.
 * A `dane*` level with addresses secure but no TLSA status is a caller bug:
 * it throws.
 *
 * `tls=` feature status (`featureStatus`, `EffectivePolicy.feature`).
 * Postfix 3.11 logs `tls=` (postconf `smtp_log_tls_feature_status`) with
 * the separators `:`, `?` and `!`; what could be confirmed (postfix-users,
 * Viktor Dukhovni, Feb 2026): `may:none` when STARTTLS was not available at
 * `may`, `may?`/`encrypt?` on a connection failure, `!encrypt` when required
 * TLS was not offered, `!fingerprint` on an authentication failure. Postfix
 * itself logs a DANE downgrade by the effective level alone (`may`,
 * `encrypt`); the complete definition was not found, so dane-relay uses
 * this consistent scheme, which keeps the configured level visible:
 *   `[!]CONFIGURED[:EFFECTIVE][?]`
 * - CONFIGURED is the policy's level; `:EFFECTIVE` is added when the level
 *   actually in force differs: `dane:may`, `dane:encrypt`, `dane:halfdane`,
 *   `dane-only:halfdane`, and `:none` when TLS was optional and not used
 *   (`may:none`, `dane:none`);
 * - a trailing `?` means undecided: the TLSA lookup failed (`dane?`) or the
 *   connection ended before TLS was settled (`encrypt?`);
 * - a leading `!` means the policy was violated: required TLS not
 *   established, authentication failed, or `dane-only` refused the host
 *   (`!dane`, `!encrypt`, `!dane-only`).
 *
 * Pure: no I/O.
 */
import type { DaneResult, DestinationPolicy, EffectivePolicy, PeerAuthentication } from './effective-policy.ts';
import type { DaneStatus } from './dane-status.ts';
import { usesDane, type TlsLevel } from './tls-level.ts';
import type { TlsVerdict } from './tls-verdict.ts';
import { normaliseName } from './reference-names.ts';

export interface HostFacts {
  /** Next-hop domain, lower case (recipient domain, or the transport's host). */
  nextHop: string;
  /** Host name as found in the MX record; the next hop itself for implicit MX / bracketed. */
  mxHost: string;
  port: number;
  /** Implicit MX and [bracketed] next hops count as secure MX names (C9). */
  route: 'mx' | 'implicit' | 'bracketed';
  /** The MX RRset validated (ignored for implicit/bracketed: treated as true). */
  mxSecure: boolean;
  /** The host's A/AAAA answers (and any CNAME chain) validated. */
  addressesSecure: boolean;
  /** null when no TLSA lookup was made (level not dane*, or addresses insecure: C10). */
  dane: DaneStatus | null;
}

type Connect = Extract<EffectivePolicy, { kind: 'connect' }>;
type Skip = Extract<EffectivePolicy, { kind: 'skip' }>;

/** Postfix defaults: `verify` matches `hostname`, `secure` matches `nexthop:dot-nexthop`. */
export function defaultMatch(level: TlsLevel): string[] {
  if (level === 'verify') return ['hostname'];
  if (level === 'secure') return ['nexthop', 'dot-nexthop'];
  return [];
}

/** Whether the engine must look up TLSA before `resolvePolicy` (dane/dane-only AND secure addresses: C10). */
export function needsTlsaLookup(policy: DestinationPolicy, addressesSecure: boolean): boolean {
  return usesDane(policy.level) && addressesSecure;
}

const norm = normaliseName;

function isIpLiteral(host: string): boolean {
  return host.includes(':') || /^\d+(\.\d+){3}$/.test(host);
}

function hostSni(facts: HostFacts): string | null {
  const host = norm(facts.mxHost);
  return host === '' || isIpLiteral(host) ? null : host;
}

function unique(names: string[]): string[] {
  return [...new Set(names.map(norm).filter((n) => n !== '' && n !== '.'))];
}

/** Expand Postfix match strategies (`hostname`, `nexthop`, `dot-nexthop`) and literal names. */
export function pkixReferenceNames(match: string[], level: TlsLevel, facts: Pick<HostFacts, 'nextHop' | 'mxHost'>): string[] {
  const strategies = match.length > 0 ? match : defaultMatch(level);
  return unique(strategies.map((m) => {
    const s = m.toLowerCase();
    if (s === 'hostname') return facts.mxHost;
    if (s === 'nexthop') return facts.nextHop;
    if (s === 'dot-nexthop') return `.${norm(facts.nextHop)}`;
    return s;
  }));
}

interface ConnectFields {
  level: TlsLevel;
  /** Shown after `:` in the feature status when it differs from the configured level. */
  effectiveLabel?: string;
  tlsRequired: boolean;
  auth: PeerAuthentication;
  sni: string | null;
  tlsaBase?: string | null;
  daneResult?: DaneResult;
  reason: string;
}

function connect(policy: DestinationPolicy, f: ConnectFields): Connect {
  const effective = f.effectiveLabel ?? f.level;
  return {
    kind: 'connect',
    level: f.level,
    configuredLevel: policy.level,
    tlsRequired: f.tlsRequired,
    tlsAttempt: f.level !== 'none',
    auth: f.auth,
    sni: f.sni,
    tlsaBase: f.tlsaBase ?? null,
    feature: effective === policy.level ? policy.level : `${policy.level}:${effective}`,
    daneResult: f.daneResult ?? 'not_applicable',
    reason: f.reason,
  };
}

function skip(policy: DestinationPolicy, message: string, daneResult: DaneResult): Skip {
  return { kind: 'skip', dsn: '4.7.5', message, cause: daneResult === 'tempfail' ? 'tlsa_lookup_failure' : 'dane_required', daneResult, level: policy.level };
}

function resolveStatic(policy: DestinationPolicy, facts: HostFacts): Connect {
  const none: PeerAuthentication = { kind: 'none' };
  const sni = hostSni(facts);
  switch (policy.level) {
    case 'none':
      return connect(policy, { level: 'none', tlsRequired: false, auth: none, sni: null, reason: 'TLS disabled by policy' });
    case 'may':
      return connect(policy, { level: 'may', tlsRequired: false, auth: none, sni, reason: 'opportunistic TLS' });
    case 'encrypt':
      return connect(policy, { level: 'encrypt', tlsRequired: true, auth: none, sni, reason: 'mandatory TLS, no authentication' });
    case 'fingerprint':
      return connect(policy, { level: 'fingerprint', tlsRequired: true, auth: { kind: 'fingerprint', fingerprints: policy.fingerprints }, sni, reason: 'mandatory TLS, pinned fingerprint' });
    default: {
      const referenceNames = pkixReferenceNames(policy.match, policy.level, facts);
      return connect(policy, { level: policy.level, tlsRequired: true, auth: { kind: 'pkix', referenceNames }, sni, reason: `mandatory TLS, PKIX and name match [${referenceNames.join(', ')}]` });
    }
  }
}

function opportunistic(policy: DestinationPolicy, facts: HostFacts, daneResult: DaneResult, reason: string): Connect {
  return connect(policy, { level: 'may', tlsRequired: false, auth: { kind: 'none' }, sni: hostSni(facts), daneResult, reason });
}

function unauthenticatedDane(policy: DestinationPolicy, facts: HostFacts, base: string, daneResult: DaneResult, reason: string): Connect {
  return connect(policy, { level: 'encrypt', tlsRequired: true, auth: { kind: 'none' }, sni: hostSni(facts), tlsaBase: base, daneResult, reason });
}

function daneResultOf(status: DaneStatus): DaneResult {
  if (status.kind === 'records') return 'ok';
  if (status.kind === 'unusable') return 'unusable';
  if (status.kind === 'tempfail') return 'tempfail';
  return status.why === 'insecure' ? 'insecure_chain' : 'not_applicable';
}

/** C8: the MX RRset is insecure and the policy is not `dane`: encrypt or may (dane-only: skip). */
function insecureMx(policy: DestinationPolicy, facts: HostFacts, status: Extract<DaneStatus, { base: string }>, where: string): EffectivePolicy {
  const result = daneResultOf(status);
  const why = `MX RRset not DNSSEC-validated, dane_insecure_mx_policy=${policy.insecureMxPolicy}`;
  if (policy.level === 'dane-only') return skip(policy, `${where}: dane-only: ${why}`, result);
  if (policy.insecureMxPolicy === 'may') return opportunistic(policy, facts, result, `${why}: TLSA ignored`); // C8
  return unauthenticatedDane(policy, facts, status.base, result, `${why}: TLS mandatory, not authenticated`); // C8
}

function authenticatedDane(policy: DestinationPolicy, facts: HostFacts, status: Extract<DaneStatus, { kind: 'records' }>, mxSecure: boolean): Connect {
  const halfDane = !mxSecure;
  // RFC 7672 §3.2.2: base domain, MX host name, and the next hop only when the MX RRset is secure.
  const referenceNames = unique([status.base, facts.mxHost, ...(mxSecure ? [facts.nextHop] : [])]);
  return connect(policy, {
    level: policy.level,
    ...(halfDane ? { effectiveLabel: 'halfdane' } : {}),
    tlsRequired: true, // C14
    auth: { kind: 'dane', records: status.usable, referenceNames, halfDane },
    sni: status.base, // C17
    tlsaBase: status.base,
    daneResult: 'ok',
    reason: `${status.usable.length} usable TLSA record(s) at base ${status.base}${halfDane ? ', MX RRset insecure: half-dane' : ''}`, // C8
  });
}

function resolveDane(policy: DestinationPolicy, facts: HostFacts): EffectivePolicy {
  const only = policy.level === 'dane-only';
  const where = `${facts.mxHost}:${facts.port}`;
  if (!facts.addressesSecure) {
    // C10: no TLSA lookup for a host whose address records are insecure.
    if (only) return skip(policy, `${where}: dane-only: address records not DNSSEC-validated`, 'insecure_chain'); // C19
    return opportunistic(policy, facts, 'insecure_chain', 'address records not DNSSEC-validated: no TLSA lookup'); // C10
  }
  const status = facts.dane;
  if (status === null) throw new Error(`resolvePolicy: ${where}: level ${policy.level} with secure addresses needs a TLSA status`);
  if (status.kind === 'tempfail') return skip(policy, `TLSA lookup error for ${where}`, 'tempfail'); // C4: never a downgrade
  if (status.kind === 'not-applicable') {
    const result = daneResultOf(status);
    if (only) return skip(policy, `${where}: dane-only: no DNSSEC-validated TLSA records (${status.why})`, result); // C19
    return opportunistic(policy, facts, result, `no secure TLSA records (${status.why}): opportunistic TLS`); // C2, C5
  }
  const mxSecure = facts.route !== 'mx' || facts.mxSecure; // C9
  if (!mxSecure && policy.insecureMxPolicy !== 'dane') return insecureMx(policy, facts, status, where);
  if (status.kind === 'unusable') {
    if (only) return skip(policy, `${where}: dane-only: all TLSA records unusable`, 'unusable'); // C15, C19
    return unauthenticatedDane(policy, facts, status.base, 'unusable', 'secure TLSA RRset without usable records: TLS mandatory, not authenticated'); // C15
  }
  return authenticatedDane(policy, facts, status, mxSecure);
}

/** The effective policy for one MX host (see the module contract). */
export function resolvePolicy(policy: DestinationPolicy, facts: HostFacts): EffectivePolicy {
  return usesDane(policy.level) ? resolveDane(policy, facts) : resolveStatic(policy, facts);
}

/** The `tls=` feature status once the session's TLS outcome is known (scheme in the module header). */
export function featureStatus(policy: EffectivePolicy, session: { tls: boolean; verdict?: TlsVerdict; undecided?: boolean }): string {
  if (policy.kind === 'skip') return policy.daneResult === 'tempfail' ? `${policy.level}?` : `!${policy.level}`;
  if (session.undecided) return `${policy.feature}?`;
  if (!session.tls) {
    if (policy.tlsRequired) return `!${policy.feature}`;
    return policy.level === 'none' ? policy.feature : `${policy.configuredLevel}:none`;
  }
  if (policy.auth.kind !== 'none' && session.verdict?.authenticated !== true) return `!${policy.feature}`;
  return policy.feature;
}
