/**
 * Check one domain the way the relay would deliver to it, without sending
 * mail (RFC 7672 §2.1–§3; checklist C3, C4, C9, C10, C14, C16, C17, C29, C30).
 *
 * Contract:
 * - Routing is the relay's `planRoute` (MX → addresses → TLSA → effective
 *   policy, skipped hosts with their reasons); every address of the plan is
 *   then connected with the relay's `openVerifiedSession` (EHLO, STARTTLS per
 *   policy with the policy's SNI, core verifyPeer before MAIL FROM). An open
 *   session is QUIT at once: MAIL FROM is never sent. Addresses are tried one
 *   after the other, in the relay's order.
 * - The MX RRset shown is a second `lookup` of the same name through the same
 *   DNS client (a cache hit): the plan itself does not carry the records.
 * - The presented chain is the one the relay's own session verified
 *   (`TlsSessionInfo.chain`); its TLSA marks are computed with core functions
 *   (marks.ts). The TLS state, match and verdict are the session's.
 * - MTA-STS: the plan carries the policy source of each host
 *   (core/sts-precedence); the report shows the STS record and policy
 *   (`sts`), each host's source and policy type (`source`), and under
 *   `testing` what enforce would have said of the presented chain
 *   (`stsTesting`, core verifyPeer; reported only, as the relay does).
 * - Verdicts: verdict.ts. Never throws for DNS/TLS/SMTP outcomes.
 */
import type { DnsLookup, MxRecord } from '../../core/dns-result.ts';
import type { PeerAuthentication, UsableTlsa } from '../../core/effective-policy.ts';
import { isNullMx } from '../../core/mx-order.ts';
import { featureStatus } from '../../core/policy.ts';
import { verifyPeer } from '../../core/verify-peer.ts';
import { describeSourcedPolicy, describeStsState } from '../../sts/describe.ts';
import { usesDane, type TlsLevel } from '../../core/tls-level.ts';
import { openVerifiedSession, planRoute, type RoutePlan, type SessionSettings, type Target } from '../../outbound/create-deliverer.ts';
import { lookupAddresses } from '../../outbound/host-lookup.ts';
import type { RouteContext, SkipEntry } from '../../outbound/route.ts';
import type { TlsSessionInfo } from '../../outbound/smtp-session.ts';
import { markChain, tlsaReport } from './marks.ts';
import { addressVerdict, domainVerdict, skipVerdict, type Attempt, type Step } from './verdict.ts';
import type { AddressReport, ChainReport, DomainReport, HostReport, MxReport, PolicyReport } from './types.ts';


export interface CheckDeps {
  route: RouteContext;
  session: SessionSettings;
  mxSessionLimit: number;
}

type Entries = Extract<RoutePlan, { kind: 'entries' }>;

function mxRecordsOf(records: MxRecord[]): MxReport['records'] {
  return records.map((r) => ({ preference: r.preference, host: r.exchange.replace(/\.$/, '') || '.' }))
    .sort((a, b) => a.preference - b.preference || a.host.localeCompare(b.host));
}

/** The MX RRset and its DNSSEC status, for display. */
async function mxReport(dns: DnsLookup, plan: RoutePlan): Promise<MxReport> {
  const route = plan.kind === 'entries' ? plan.route : null;
  if (route === 'bracketed') return { route, dnssec: 'no MX lookup (transport [host], C9)', records: [] };
  const r = await dns.lookup(plan.nextHop, 'MX');
  switch (r.kind) {
    case 'secure':
    case 'insecure':
      return { route, dnssec: isNullMx(r.records) ? `${r.kind}, null MX (RFC 7505)` : r.kind, records: mxRecordsOf(r.records) };
    case 'nodata':
      return { route, dnssec: `no MX records (${r.secure ? 'secure' : 'insecure'} nodata): implicit MX`, records: [] };
    case 'nxdomain':
      return { route, dnssec: `domain does not exist (${r.secure ? 'secure' : 'insecure'} nxdomain)`, records: [] };
    case 'failure':
      return { route, dnssec: `lookup failed: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`, records: [] };
  }
}

function describeAuth(a: PeerAuthentication): string {
  if (a.kind === 'dane') return `dane (${a.records.length} usable TLSA record(s)${a.halfDane ? ', half-dane' : ''})`;
  if (a.kind === 'pkix') return `pkix [${a.referenceNames.join(', ')}]`;
  return a.kind;
}

function policyReport(p: Target['policy'] | NonNullable<SkipEntry['resolution']['policy']>): PolicyReport {
  if (p.kind === 'skip') {
    return { kind: 'skip', level: p.level, feature: featureStatus(p, { tls: false }), daneResult: p.daneResult, tlsRequired: true, auth: 'none', sni: null, reason: p.message };
  }
  return { kind: 'connect', level: p.level, feature: p.feature, daneResult: p.daneResult, tlsRequired: p.tlsRequired, auth: describeAuth(p.auth), sni: p.sni, reason: p.reason };
}

function noLookupWhy(facts: Target['facts'] | undefined, level: TlsLevel): string {
  if (facts && !facts.addressesSecure) return 'address records not DNSSEC-validated: no TLSA lookup'; // C10
  return usesDane(level) ? 'no TLSA lookup' : `level ${level} does not use DANE`;
}

function newHost(e: Target | SkipEntry, plan: Entries, mx: MxReport): HostReport {
  const host = e.mxHost;
  const facts = 'kind' in e ? e.resolution.facts : e.facts;
  const pref = 'kind' in e ? (mx.records.find((r) => r.host === host)?.preference ?? null) : e.preference;
  return {
    host, preference: plan.route === 'mx' ? pref : null, port: e.port,
    addresses: { list: [], secure: facts ? facts.addressesSecure : null },
    tlsa: tlsaReport(facts?.dane ?? null, e.port, noLookupWhy(facts, plan.destination.level)),
    policy: 'kind' in e ? (e.resolution.policy ? policyReport(e.resolution.policy) : null) : policyReport(e.policy),
    ...(e.sourced ? { source: describeSourcedPolicy(host, e.sourced) } : {}),
    skipped: 'kind' in e ? { dsn: e.dsn, reason: e.reason } : null,
    connections: [],
  };
}

/** The chain the session verified, each certificate marked against the usable TLSA records. */
function chainReport(t: Target, info: TlsSessionInfo): ChainReport {
  const usable: UsableTlsa[] = t.facts.dane?.kind === 'records' ? t.facts.dane.usable : [];
  if (!info.chain) return { source: 'session', certificates: [], error: 'the session did not expose its chain' };
  return { source: 'session', certificates: markChain(info.chain.certificates, usable) };
}

/** RFC 8461 §5 testing: what enforce would have said of the chain this session presented (report only). */
function stsTestingNote(deps: CheckDeps, t: Target, info: TlsSessionInfo | null): string | undefined {
  const testing = t.sourced.stsTesting;
  if (!testing) return undefined;
  if (!testing.mxAllowed) return 'MTA-STS testing: enforce would refuse this host (MX matches no policy pattern)';
  if (!info?.chain) return 'MTA-STS testing: enforce would refuse this host (no TLS)';
  const v = verifyPeer(testing.auth, info.chain, { now: (deps.session.now ?? (() => new Date()))(), trustAnchors: deps.session.trustAnchors });
  return v.authenticated ? 'MTA-STS testing: enforce would pass (PKIX, name matches)' : `MTA-STS testing: enforce would refuse this host: ${v.reason ?? 'not authenticated'}`;
}

/** Connect to one address as the relay would; QUIT right after verification. */
async function checkAddress(deps: CheckDeps, t: Target): Promise<{ report: AddressReport; attempt: Attempt }> {
  const open = await openVerifiedSession(t, deps.session);
  if (open.kind === 'open') open.session.quit(); // no MAIL FROM, ever
  const info = open.tls ?? null;
  const verdict = info?.verdict;
  const attempt: Attempt = open.kind === 'open' ? { kind: 'open' } : { kind: 'failed', outcome: open.outcome, reason: open.reason, connected: open.connected };
  const report: AddressReport = {
    ip: t.ip, port: t.port, verdict: addressVerdict(attempt),
    reason: open.kind === 'failed' ? open.reason : null,
    dsn: open.kind === 'failed' ? open.outcome.dsn : null,
    detail: verdict && !verdict.authenticated ? (verdict.reason ?? null) : null,
    sni: t.policy.sni,
    tls: info ? { protocol: info.protocol, cipher: info.cipher, bits: info.bits ?? null } : null,
    state: verdict?.state ?? null,
    feature: featureStatus(t.policy, { tls: info !== null, ...(verdict ? { verdict } : {}) }),
    matched: verdict?.matched ?? null,
    chain: info ? chainReport(t, info) : null,
    plaintextFallback: open.kind === 'open' && open.plaintextFallback,
    injectionBytes: open.injectionBytes,
  };
  const testing = stsTestingNote(deps, t, info);
  if (testing) report.stsTesting = testing;
  return { report, attempt };
}

/** A skipped host's addresses, for display (the plan keeps none; a cache hit in the same DNS client). */
async function addressesOf(ctx: RouteContext, host: string): Promise<string[]> {
  const r = await lookupAddresses(ctx, host);
  return 'kind' in r ? [] : r.addresses.map((a) => a.address);
}

async function walkEntries(deps: CheckDeps, plan: Entries, mx: MxReport): Promise<{ hosts: HostReport[]; steps: Step[] }> {
  const hosts = new Map<string, HostReport>();
  const steps: Step[] = [];
  for (const entry of plan.entries) {
    const e = entry.kind === 'skip' ? entry : entry.target;
    const host = hosts.get(e.mxHost) ?? newHost(e, plan, mx);
    hosts.set(e.mxHost, host);
    if (entry.kind === 'skip') {
      if (entry.resolution.facts) host.addresses.list = await addressesOf(deps.route, entry.mxHost);
      steps.push({ kind: 'skip', dsn: entry.dsn, reason: entry.reason, cause: entry.cause, permanent: entry.permanent });
      continue;
    }
    const t = entry.target;
    host.addresses.list.push(t.ip);
    const { report, attempt } = await checkAddress(deps, t);
    host.connections.push(report);
    steps.push({ kind: 'address', label: `${t.mxHost}[${t.ip}]:${t.port}`, attempt });
  }
  return { hosts: [...hosts.values()], steps };
}

function notesOf(plan: Entries, hosts: HostReport[]): string[] {
  const notes: string[] = [];
  const level = plan.destination.level;
  // Opportunistic: no host has a secure TLSA RRset, and no TLSA lookup failed (a failure is never "absent", C1).
  const noTlsa = hosts.length > 0 && hosts.every((h) => h.tlsa.status === 'not-applicable' || h.tlsa.status === 'not-looked-up');
  if (!usesDane(level)) notes.push(`dane: not used at level ${level}`);
  else if (noTlsa) notes.push('dane: not applicable (no secure TLSA)');
  if (hosts.some((h) => h.policy?.auth.includes('half-dane'))) notes.push('MX RRset not DNSSEC-validated: a DANE match is logged Trusted, not Verified (half-dane, C8)');
  for (const h of hosts) {
    if (h.skipped && skipVerdict(h.skipped.dsn) === 'error') notes.push(`${h.host}: not used: ${h.skipped.reason}`);
    for (const c of h.connections) {
      if (c.verdict === 'error') notes.push(`${h.host}[${c.ip}]:${c.port}: not usable (not a DANE failure): ${c.reason ?? ''}`);
      if (c.plaintextFallback) notes.push(`${h.host}[${c.ip}]:${c.port}: TLS handshake failed, the relay would deliver in plaintext (level may)`);
      if (c.injectionBytes > 0) notes.push(`${h.host}[${c.ip}]:${c.port}: ${c.injectionBytes} byte(s) sent in plaintext after the STARTTLS reply were discarded: someone may be on the path`); // C32
    }
  }
  return notes;
}

/** The whole check of one domain (see the module contract). */
export async function checkDomain(deps: CheckDeps, domain: string): Promise<DomainReport> {
  const plan = await planRoute(deps.route, domain);
  const mx = await mxReport(deps.route.dns, plan);
  const base = { domain, nextHop: plan.nextHop, mx };
  if (plan.kind === 'final') {
    const why = plan.dsn === '5.1.10' ? 'null MX: the domain accepts no mail (RFC 7505, C29)' : `the relay would mark the mail ${plan.status}`;
    return { ...base, verdict: 'fail', reason: plan.diagnostic, dsn: plan.dsn, deliverVia: null, notes: [why], policy: null, hosts: [] };
  }
  const { hosts, steps } = await walkEntries(deps, plan, mx);
  const v = domainVerdict(steps, deps.mxSessionLimit, plan.nextHop);
  return {
    ...base, verdict: v.verdict, reason: v.reason, dsn: v.dsn, deliverVia: v.deliverVia, notes: notesOf(plan, hosts),
    policy: { level: plan.destination.level, source: plan.destination.source },
    ...(plan.sts ? { sts: describeStsState(plan.nextHop, plan.sts) } : {}), hosts,
  };
}
