/**
 * `tlsa match`: does this chain match these TLSA records, exactly as the
 * relay would decide? (RFC 7672 §3.1, RFC 7671 §8 rollover; C13, C16, C21–C27.)
 *
 * Contract (pure):
 * - the verdict is core `verifyPeer` with a DANE `PeerAuthentication` built
 *   from `usableTlsa(records)` and the given reference names — the relay's
 *   own code path, not a second implementation;
 * - per record: `match` (with depth), `no-match` (with verifyPeer's reason),
 *   `unusable` (core `unusableReason`, C13/C21/C27) or `ignored` (usable but
 *   set aside by digest agility, C26); each usable record is checked alone;
 * - rollover warning: when every matching record is fragile — a `3 0 x`
 *   (pins the whole certificate: breaks at every renewal) or a `2 x x` whose
 *   matched CA certificate expires within `soonDays` (default 30);
 * - `kind` is `match`, `no-match` or `no-usable` (the relay would not
 *   authenticate this chain: C15/C16). Never throws for bad records.
 */
import type { X509Certificate } from 'node:crypto';
import type { UsableTlsa } from '../../core/effective-policy.ts';
import type { TlsVerdict } from '../../core/tls-verdict.ts';
import { describeTlsa, formatTlsa, unusableReason, usableTlsa } from '../../core/tlsa.ts';
import { verifyPeer } from '../../core/verify-peer.ts';
import { DAY_MS, type CertInfo } from './pem.ts';

export interface TlsaInput { usage: number; selector: number; matchingType: number; data: Uint8Array }
export interface MatchInput { chain: CertInfo[]; records: TlsaInput[]; referenceNames: string[]; now: Date; soonDays?: number }

export interface RecordReport {
  record: string;
  description: string;
  status: 'match' | 'no-match' | 'unusable' | 'ignored';
  depth?: number;
  /** Why it did not match / is unusable / is ignored. */
  reason?: string;
  /** Why this matching record will soon stop matching. */
  fragile?: string;
}

export interface MatchResult {
  kind: 'match' | 'no-match' | 'no-usable';
  verdict: TlsVerdict | null;
  records: RecordReport[];
  warnings: string[];
}

const NO_ANCHORS: X509Certificate[] = [];

function verify(records: UsableTlsa[], input: MatchInput): TlsVerdict {
  const auth = { kind: 'dane' as const, records, referenceNames: input.referenceNames, halfDane: false };
  return verifyPeer(auth, { certificates: input.chain.map((c) => c.der) }, { now: input.now, trustAnchors: NO_ANCHORS });
}

function fragility(r: UsableTlsa, depth: number, input: MatchInput): string | undefined {
  if (r.usage === 3 && r.selector === 0) return 'pins the whole certificate: breaks at every renewal';
  const cert = input.chain[depth];
  if (r.usage !== 2 || !cert) return undefined;
  const days = Math.floor((cert.notAfter.getTime() - input.now.getTime()) / DAY_MS);
  if (days < (input.soonDays ?? 30)) return `matches ${cert.subject}, which expires in ${days} days (${cert.notAfter.toISOString()})`;
  return undefined;
}

function report(r: TlsaInput, usable: UsableTlsa[], input: MatchInput): RecordReport {
  const base = { record: formatTlsa(r), description: describeTlsa(r) };
  const why = unusableReason(r);
  if (why !== null) return { ...base, status: 'unusable', reason: why };
  const kept = usable.find((u) => formatTlsa(u) === base.record);
  if (!kept) return { ...base, status: 'ignored', reason: `digest agility: a stronger digest for ${r.usage} ${r.selector} is present, so this one is not used (RFC 7671 §9)` };
  const v = verify([kept], input);
  if (!v.authenticated || !v.matched) return { ...base, status: 'no-match', reason: v.reason ?? 'no match' };
  return { ...base, status: 'match', depth: v.matched.depth, fragile: fragility(kept, v.matched.depth, input) };
}

function rolloverWarning(records: RecordReport[]): string[] {
  const matching = records.filter((r) => r.status === 'match');
  if (matching.length === 0 || matching.some((r) => r.fragile === undefined)) return [];
  return [
    `only soon-to-change records match (${matching.map((r) => `${r.record.split(' ').slice(0, 3).join(' ')} ${r.fragile}`).join('; ')}): ` +
      'publish a 3 1 1 record for this key (or a 2 1 1 for the next CA) before the change, and keep both until the old one is gone',
  ];
}

export function matchChain(input: MatchInput): MatchResult {
  const usable = usableTlsa(input.records);
  const records = input.records.map((r) => report(r, usable, input));
  if (usable.length === 0) {
    return { kind: 'no-usable', verdict: null, records, warnings: ['no usable record: the relay would require TLS but not authenticate the server; under dane-only it would not deliver'] }; // C15, C19
  }
  const verdict = verify(usable, input);
  return { kind: verdict.authenticated ? 'match' : 'no-match', verdict, records, warnings: verdict.authenticated ? rolloverWarning(records) : [] };
}
