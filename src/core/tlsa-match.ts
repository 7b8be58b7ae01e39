/**
 * Match a presented certificate chain against usable TLSA records
 * (RFC 7672 §3.1.1, §3.1.2, §3.2.2; RFC 7671 §5.1, §5.2; checklist C22–C25).
 *
 * Contract:
 * - DANE-EE(3) records match the leaf only; a match authenticates with no
 *   name, validity-date or chain check (C22, RFC 7671 §5.1).
 * - DANE-TA(2) records match a certificate on a signature-verified path from
 *   the leaf (C23, C25), at depth >= 1 (a DANE-TA record never matches the
 *   leaf itself). A digest record (`2 x 1`, `2 x 2`) can only match a
 *   certificate the server sent; a Full record (`2 0 0` certificate, `2 1 0`
 *   key) also matches when the top of the presented path is signed by it
 *   (RFC 7671 §5.2.2, §5.2.3). The certificates below the trust anchor must
 *   be within their validity dates (the anchor's own dates are not checked,
 *   see path-validate.ts), and the leaf must carry one of the reference
 *   names (C24).
 * - The result is a typed value; nothing throws for a bad peer chain.
 *
 * Pure: node:crypto only.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import type { UsableTlsa } from './effective-policy.ts';
import { findPaths, signedBy, issuedBy, validityProblem } from './path-validate.ts';
import { describeNameMismatch, matchReferenceName } from './reference-names.ts';
import { certMatches } from './tlsa.ts';

export type DaneMatch =
  | { kind: 'match'; record: UsableTlsa; depth: number }
  | { kind: 'nomatch'; reason: string };

export const NO_MATCH_REASON = 'no TLSA record matched the certificate chain';

/** A `2 0 0` / `2 1 0` record's certificate or key, usable as an issuer outside the presented chain. */
type FullAnchor = { record: UsableTlsa; cert?: X509Certificate; key: KeyObject };

function fullAnchors(records: UsableTlsa[]): FullAnchor[] {
  const anchors: FullAnchor[] = [];
  for (const record of records) {
    if (record.usage !== 2 || record.matchingType !== 0) continue;
    try {
      const der = Buffer.from(record.data);
      if (record.selector === 0) {
        const cert = new X509Certificate(der);
        anchors.push({ record, cert, key: cert.publicKey });
      } else {
        anchors.push({ record, key: createPublicKey({ key: der, format: 'der', type: 'spki' }) });
      }
    } catch {
      // Unparseable Full data was already classed unusable (tlsa.ts); ignore defensively.
    }
  }
  return anchors;
}

function signedByFullAnchor(cert: X509Certificate, a: FullAnchor): boolean {
  return a.cert ? issuedBy(cert, a.cert) : signedBy(cert, a.key);
}

function matchEe(leaf: X509Certificate, records: UsableTlsa[]): DaneMatch | null {
  const record = records.find((r) => r.usage === 3 && certMatches(leaf, r));
  return record ? { kind: 'match', record, depth: 0 } : null;
}

function matchTa(chain: X509Certificate[], records: UsableTlsa[], referenceNames: string[], now: Date): DaneMatch | null {
  const ta = records.filter((r) => r.usage === 2);
  const [leaf, ...pool] = chain;
  if (ta.length === 0 || !leaf) return null;
  const full = fullAnchors(ta);
  let dateIssue: string | null = null;
  for (const found of findPaths<UsableTlsa>({
    leaf,
    pool,
    anchorAt: (cert, depth) => (depth === 0 ? undefined : ta.find((r) => certMatches(cert, r))),
    anchorAbove: (cert) => full.find((a) => signedByFullAnchor(cert, a))?.record,
  })) {
    const problem = validityProblem(found, now);
    if (problem) {
      dateIssue ??= problem;
      continue;
    }
    if (matchReferenceName(leaf, referenceNames) === null) {
      return { kind: 'nomatch', reason: `DANE-TA match but name mismatch: ${describeNameMismatch(leaf, referenceNames)}` };
    }
    return { kind: 'match', record: found.anchor, depth: found.anchorDepth };
  }
  if (dateIssue) return { kind: 'nomatch', reason: `DANE-TA match but chain not valid: ${dateIssue}` };
  if (pool.some((cert) => ta.some((r) => certMatches(cert, r)))) {
    // C25: the certificate that matches is not on a signature-verified path from the leaf.
    return { kind: 'nomatch', reason: `${NO_MATCH_REASON} (a DANE-TA record matched a certificate that does not issue the leaf's chain)` };
  }
  return null;
}

/** Match `chain` (leaf first, parsed) against usable TLSA records (C22–C25). */
export function matchDane(records: UsableTlsa[], chain: X509Certificate[], referenceNames: string[], now: Date): DaneMatch {
  const leaf = chain[0];
  if (!leaf) return { kind: 'nomatch', reason: 'no certificate presented' };
  return matchEe(leaf, records) ?? matchTa(chain, records, referenceNames, now) ?? { kind: 'nomatch', reason: NO_MATCH_REASON };
}
