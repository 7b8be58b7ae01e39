/**
 * X.509 certification path building and checks, shared by DANE-TA(2)
 * matching and local-CA (PKIX) validation (RFC 5280 §6.1, RFC 7671 §5.2,
 * RFC 7672 §3.1.2; checklist C23, C25).
 *
 * Contract:
 * - A path starts at the leaf (the first presented certificate); the other
 *   presented certificates are an unordered pool. Each step up requires the
 *   issuer to be a CA (basicConstraints CA:TRUE), name/key-identifier
 *   linkage (`checkIssued`) and a valid signature (`verify`). So only
 *   certificates on a signature-verified path from the leaf can ever be
 *   reached (C25).
 * - Paths are bounded: at most `MAX_PATH_LENGTH` certificates and
 *   `MAX_VISITS` search steps, so a hostile pool cannot make the search
 *   explode. Longer paths are not found (= not trusted).
 * - Validity dates are checked for every certificate BELOW the trust anchor
 *   (`validityProblem`). The trust anchor's own dates are not checked: per
 *   RFC 5280 §6.1.1 (d) a trust anchor is an input to path validation, not a
 *   certificate of the path, and RFC 7671 §5.2.3 asks only that the topmost
 *   certificate signed by a DANE-TA key "has not expired" and the rest of the
 *   chain validates.
 * - Not checked: name constraints, policy constraints, pathLen, revocation.
 *
 * Pure: node:crypto objects only, `now` is passed in.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { nameLine } from './reference-names.ts';

export const MAX_PATH_LENGTH = 8;
const MAX_VISITS = 2000;

/** Signature check that never throws (unsupported key types count as "no"). */
export function signedBy(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.verify(key);
  } catch {
    return false;
  }
}

/** `issuer` is a CA that issued and signed `child`. */
export function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return issuer.ca && child.checkIssued(issuer) && signedBy(child, issuer.publicKey);
  } catch {
    return false;
  }
}

export interface PathSearch<A> {
  leaf: X509Certificate;
  /** The other presented certificates, in any order. */
  pool: X509Certificate[];
  /** An anchor that terminates the path at `cert`, already on the path at `depth`. */
  anchorAt(cert: X509Certificate, depth: number): A | undefined;
  /** An anchor outside the presented certificates that issued `cert` (then at `depth + 1`). */
  anchorAbove(cert: X509Certificate, depth: number): A | undefined;
}

export interface FoundPath<A> {
  /** Leaf first; includes the anchor certificate when it was presented (`anchorInPath`). */
  path: X509Certificate[];
  anchor: A;
  anchorDepth: number;
  anchorInPath: boolean;
}

/** Every signature-verified path from the leaf to an anchor, depth first, bounded. */
export function* findPaths<A>(search: PathSearch<A>): Generator<FoundPath<A>> {
  const path: X509Certificate[] = [search.leaf];
  const budget = { visits: 0 };
  yield* extend(search, path, budget);
}

function* extend<A>(search: PathSearch<A>, path: X509Certificate[], budget: { visits: number }): Generator<FoundPath<A>> {
  if (++budget.visits > MAX_VISITS) return;
  const depth = path.length - 1;
  const top = path[depth] as X509Certificate;
  const here = search.anchorAt(top, depth);
  if (here !== undefined) {
    yield { path: [...path], anchor: here, anchorDepth: depth, anchorInPath: true };
    return;
  }
  const above = search.anchorAbove(top, depth);
  if (above !== undefined) yield { path: [...path], anchor: above, anchorDepth: depth + 1, anchorInPath: false };
  if (path.length >= MAX_PATH_LENGTH) return;
  for (const candidate of search.pool) {
    if (path.includes(candidate) || !issuedBy(top, candidate)) continue;
    path.push(candidate);
    yield* extend(search, path, budget);
    path.pop();
  }
}

function shortName(cert: X509Certificate): string {
  return nameLine(cert.subject);
}

/** Why a certificate is outside its validity period at `now`, or null. */
export function dateProblem(cert: X509Certificate, depth: number, now: Date): string | null {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (!(now.getTime() >= from.getTime())) return `certificate at depth ${depth} (${shortName(cert)}) is not yet valid (notBefore ${from.toISOString()})`;
  if (!(now.getTime() <= to.getTime())) return `certificate at depth ${depth} (${shortName(cert)}) has expired (notAfter ${to.toISOString()})`;
  return null;
}

/** First validity-date problem among the certificates below the anchor, or null. */
export function validityProblem<A>(found: FoundPath<A>, now: Date): string | null {
  const below = found.anchorInPath ? found.path.slice(0, -1) : found.path;
  for (const [depth, cert] of below.entries()) {
    const problem = dateProblem(cert, depth, now);
    if (problem) return problem;
  }
  return null;
}

export type PkixResult = { ok: true; depth: number } | { ok: false; reason: string };

function sameCert(a: X509Certificate, b: X509Certificate): boolean {
  return a.fingerprint256 === b.fingerprint256;
}

/** Local-store (PKIX) validation: a path from the leaf to one of `anchors`, dates checked below the anchor. */
export function validatePkix(chain: X509Certificate[], anchors: X509Certificate[], now: Date): PkixResult {
  const [leaf, ...pool] = chain;
  if (!leaf) return { ok: false, reason: 'no certificate presented' };
  if (anchors.length === 0) return { ok: false, reason: 'no trusted CA certificates configured' };
  let problem: string | null = null;
  for (const found of findPaths<X509Certificate>({
    leaf,
    pool,
    anchorAt: (cert) => anchors.find((a) => sameCert(a, cert)),
    anchorAbove: (cert) => anchors.find((a) => issuedBy(cert, a)),
  })) {
    problem = validityProblem(found, now);
    if (!problem) return { ok: true, depth: found.anchorDepth };
  }
  return { ok: false, reason: problem ?? 'certificate chain does not lead to a trusted CA' };
}
