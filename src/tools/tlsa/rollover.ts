/**
 * The TLSA rollover plan for a key change (RFC 7671 §8.1 "current + next";
 * RFC 6698 §2.1): which records to publish now, which to keep once the new
 * certificate is deployed, and whether a step is safe. Pure.
 *
 * Contract:
 * - Records are DANE-EE(3) (the default `3 1 1`) computed from the current
 *   certificate and from the next certificate or, with selector 1, the next
 *   key (certbot issues a new key with each renewal by default).
 * - `publishStep`: add the current and the next record to what is published
 *   (records already there are not added twice). The running certificate
 *   matches the result by construction; the check is still made.
 * - `retireStep`: delete the old certificate's record, keep everything else.
 *   Refused when the running certificate (`running`) would not match what is
 *   left — i.e. the next certificate is not deployed yet — or when the old
 *   and running records are the same (a renewal that kept the key: nothing
 *   to retire).
 * - "Matches" is core `usableTlsa` + `matchDane` (the relay's decision,
 *   C13, C22): a record the relay would not use does not count.
 * - Refusals are values with a message that says what to do instead.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { matchDane } from '../../core/tlsa-match.ts';
import { formatTlsa, tlsaDataFor, usableTlsa } from '../../core/tlsa.ts';
import type { TlsaRr, UpdateOp } from './nsupdate.ts';

export type Subject =
  | { kind: 'cert'; der: Uint8Array; x509: X509Certificate; label: string }
  | { kind: 'key'; spki: Uint8Array; label: string };

export interface RecordParams { selector: 0 | 1; matchingType: 1 | 2 }

export type StepResult =
  | { kind: 'ok'; ops: UpdateOp[]; after: TlsaRr[] }
  | { kind: 'refused'; message: string };

export function recordFor(s: Subject, p: RecordParams): TlsaRr {
  if (s.kind === 'key') {
    if (p.selector !== 1) throw new RolloverInputError(`${s.label}: a key alone gives only selector 1 (SPKI) records`);
    return { usage: 3, selector: 1, matchingType: p.matchingType, data: new Uint8Array(createHash(p.matchingType === 1 ? 'sha256' : 'sha512').update(s.spki).digest()) };
  }
  return { usage: 3, selector: p.selector, matchingType: p.matchingType, data: tlsaDataFor(s.der, p.selector, p.matchingType) };
}

export class RolloverInputError extends Error {}

const same = (a: TlsaRr, b: TlsaRr): boolean => formatTlsa(a) === formatTlsa(b);

/** Does the running certificate match `rrset` as the relay would decide? */
export function runningMatches(running: Extract<Subject, { kind: 'cert' }>, rrset: TlsaRr[], now: Date): boolean {
  const usable = usableTlsa(rrset.map((r) => ({ ...r })));
  return matchDane(usable, [running.x509], [], now).kind === 'match';
}

export function publishStep(published: TlsaRr[], current: Extract<Subject, { kind: 'cert' }>, next: Subject, p: RecordParams, now: Date): StepResult {
  const want = [recordFor(current, p), recordFor(next, p)];
  const ops: UpdateOp[] = [];
  const after = [...published];
  for (const r of want) {
    if (after.some((x) => same(x, r))) continue;
    after.push(r);
    ops.push({ op: 'add', record: r });
  }
  if (!runningMatches(current, after, now)) return { kind: 'refused', message: `the running certificate ${current.label} would not match the RRset after the update` };
  return { kind: 'ok', ops, after };
}

export function retireStep(published: TlsaRr[], running: Extract<Subject, { kind: 'cert' }>, old: Subject, p: RecordParams, now: Date): StepResult {
  const oldRec = recordFor(old, p);
  if (same(oldRec, recordFor(running, p))) {
    return { kind: 'refused', message: `${old.label} and the running certificate ${running.label} have the same ${p.selector === 1 ? 'key' : 'certificate'}: their record is the one in use, nothing to retire` };
  }
  const after = published.filter((r) => !same(r, oldRec));
  if (!runningMatches(running, after, now)) {
    return { kind: 'refused', message: `refusing to retire ${formatTlsa(oldRec)}: the running certificate ${running.label} would match no record left (deploy the next certificate first, or publish its record: tlsa rollover --step publish)` };
  }
  const ops: UpdateOp[] = published.some((r) => same(r, oldRec)) ? [{ op: 'delete', record: oldRec }] : [];
  return { kind: 'ok', ops, after };
}
