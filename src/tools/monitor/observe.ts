/**
 * What the monitor remembers of one target, and what counts as a change.
 * Pure: plain data in, plain data out; the clock is passed in.
 *
 * Contract:
 * - `observe` turns one check result (`DomainReport`, the same as
 *   `dane-relay check`) and the extra facts gathered for it (RRSIG expiry,
 *   a staged next certificate) into an `Observation`: the verdict, the
 *   relay's reason, and warnings ahead of time —
 *   `cert-expiry`   a presented leaf expires within `certDays`;
 *   `rrsig-expiry`  a signature on the MX or TLSA RRset expires within
 *                   `rrsigDays` (RFC 4034 §3.1.5);
 *   `rrsig-lookup`  the RRSIG query failed (never read as "unsigned", C1);
 *   `staged-mismatch` the staged next certificate would not match the
 *                   published TLSA RRset (deploying it would break DANE).
 *   Warnings are keyed `kind subject` so they can be compared between runs.
 * - `diffObservation(previous, current)` lists the changes worth an alert:
 *   a verdict change (a first sight counts only when it is not `pass`), a
 *   different reason while failing, a warning that appeared or cleared.
 *   The same state twice gives no change.
 */
import type { DomainReport } from '../check/types.ts';
import type { RrsigExpiry } from './rrsig.ts';

export type WarningKind = 'cert-expiry' | 'rrsig-expiry' | 'rrsig-lookup' | 'staged-mismatch';
export interface Warning { kind: WarningKind; subject: string; message: string }

export interface Observation {
  target: string;
  verdict: DomainReport['verdict'];
  reason: string | null;
  warnings: Warning[];
  checkedAt: string;
}

export interface Thresholds { certDays: number; rrsigDays: number }

export interface StagedCheck { file: string; matched: boolean; detail: string }

export type Change =
  | { kind: 'verdict'; target: string; from: DomainReport['verdict'] | null; to: DomainReport['verdict']; reason: string | null }
  | { kind: 'reason'; target: string; verdict: DomainReport['verdict']; reason: string | null }
  | { kind: 'warning'; target: string; warning: Warning }
  | { kind: 'cleared'; target: string; warning: Warning };

const DAY_MS = 86_400_000;

function daysLeft(until: Date, now: Date): number {
  return Math.floor((until.getTime() - now.getTime()) / DAY_MS);
}

function certWarnings(report: DomainReport, certDays: number, now: Date): Warning[] {
  const out = new Map<string, Warning>();
  for (const h of report.hosts) {
    for (const c of h.connections) {
      const leaf = c.chain?.certificates[0];
      if (!leaf?.notAfter) continue;
      const left = daysLeft(new Date(leaf.notAfter), now);
      if (left > certDays) continue;
      const subject = `${h.host}[${c.ip}]:${c.port}`;
      const what = left < 0 ? `expired on ${leaf.notAfter}` : `expires in ${left} day(s) (${leaf.notAfter})`;
      out.set(subject, { kind: 'cert-expiry', subject, message: `certificate of ${subject} ${what}` });
    }
  }
  return [...out.values()];
}

function rrsigWarnings(sigs: RrsigExpiry[], rrsigDays: number, now: Date): Warning[] {
  const out: Warning[] = [];
  for (const s of sigs) {
    const subject = `${s.name} ${s.type}`;
    if (s.kind === 'failure') out.push({ kind: 'rrsig-lookup', subject, message: `RRSIG of ${subject} could not be read: ${s.detail}` });
    if (s.kind !== 'signed') continue;
    const left = daysLeft(s.expires, now);
    if (left <= rrsigDays) out.push({ kind: 'rrsig-expiry', subject, message: `RRSIG over ${subject} (signer ${s.signer}) expires in ${left} day(s) (${s.expires.toISOString()})` });
  }
  return out;
}

export function observe(report: DomainReport, extra: { rrsigs: RrsigExpiry[]; staged?: StagedCheck }, t: Thresholds, now: Date): Observation {
  const warnings = [...certWarnings(report, t.certDays, now), ...rrsigWarnings(extra.rrsigs, t.rrsigDays, now)];
  if (extra.staged && !extra.staged.matched) {
    warnings.push({ kind: 'staged-mismatch', subject: extra.staged.file, message: `staged certificate ${extra.staged.file} would not match the published TLSA: ${extra.staged.detail}` });
  }
  return { target: report.domain, verdict: report.verdict, reason: report.reason, warnings, checkedAt: now.toISOString() };
}

const key = (w: Warning): string => `${w.kind} ${w.subject}`;

export function diffObservation(prev: Observation | undefined, cur: Observation): Change[] {
  const changes: Change[] = [];
  const target = cur.target;
  if (!prev) {
    if (cur.verdict !== 'pass') changes.push({ kind: 'verdict', target, from: null, to: cur.verdict, reason: cur.reason });
  } else if (prev.verdict !== cur.verdict) {
    changes.push({ kind: 'verdict', target, from: prev.verdict, to: cur.verdict, reason: cur.reason });
  } else if (cur.verdict !== 'pass' && prev.reason !== cur.reason) {
    changes.push({ kind: 'reason', target, verdict: cur.verdict, reason: cur.reason });
  }
  const before = new Map((prev?.warnings ?? []).map((w) => [key(w), w]));
  const now = new Set(cur.warnings.map(key));
  for (const w of cur.warnings) if (!before.has(key(w))) changes.push({ kind: 'warning', target, warning: w });
  for (const [k, w] of before) if (!now.has(k)) changes.push({ kind: 'cleared', target, warning: w });
  return changes;
}

/** One line per change, for people and for the alert body. */
export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'verdict': return `${c.target}: ${c.from === null ? 'first check' : c.from.toUpperCase()} -> ${c.to.toUpperCase()}${c.reason ? `: ${c.reason}` : ''}`;
    case 'reason': return `${c.target}: still ${c.verdict.toUpperCase()}, now: ${c.reason ?? '-'}`;
    case 'warning': return `${c.target}: WARNING ${c.warning.kind}: ${c.warning.message}`;
    case 'cleared': return `${c.target}: cleared ${c.warning.kind}: ${c.warning.subject}`;
  }
}
