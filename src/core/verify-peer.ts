/**
 * Verify the TLS peer after STARTTLS and before MAIL FROM, and say so in
 * Postfix's vocabulary (RFC 7672 §3, §2.2.1; checklist C8, C16, C20–C27).
 *
 * Contract — `verifyPeer(auth, chain, ctx)` returns a `TlsVerdict`:
 * - `Anonymous`: no certificate was presented.
 * - `Verified`: the required authentication succeeded — a DANE match
 *   (C22–C25), a pinned certificate/public-key fingerprint, or a local-CA
 *   (PKIX) chain plus a name match at verify/secure — EXCEPT half-dane: a
 *   DANE match for an MX host reached through an insecure MX RRset is
 *   `Trusted` (still `authenticated`), because the host name could be forged
 *   (C8).
 * - `Trusted`: the chain validates against `ctx.trustAnchors` (pure path
 *   validation, path-validate.ts) but no name/DANE match was required or
 *   found.
 * - `Untrusted`: a certificate was presented, it does not chain to a trusted
 *   CA, and authentication (if required) failed.
 * - `authenticated` tells the caller whether the host may be used; when
 *   false, `reason` says why in one line (C16: the caller then tries the next
 *   MX host and finally defers 4.7.5). `matched` names the TLSA record or
 *   fingerprint and the chain depth.
 * Unparseable certificates: an unparseable leaf fails authentication; an
 * unparseable non-leaf certificate is ignored. Nothing throws.
 *
 * Pure: node:crypto only; `ctx.now` is the clock.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { Fingerprint, PeerAuthentication } from './effective-policy.ts';
import type { PresentedChain, TlsState, TlsVerdict } from './tls-verdict.ts';
import { validatePkix } from './path-validate.ts';
import { describeNameMismatch, matchReferenceName } from './reference-names.ts';
import { matchDane } from './tlsa-match.ts';
import { formatTlsa, spkiOf } from './tlsa.ts';

export interface VerifyContext {
  now: Date;
  /** The local PKIX root store, parsed once at start-up. */
  trustAnchors: X509Certificate[];
}

function parseChain(chain: PresentedChain): X509Certificate[] | null {
  const parsed: X509Certificate[] = [];
  for (const [i, der] of chain.certificates.entries()) {
    try {
      parsed.push(new X509Certificate(Buffer.from(der)));
    } catch {
      if (i === 0) return null; // the leaf must parse; other garbage is ignored
    }
  }
  return parsed;
}

function unauthenticated(pkixTrusted: boolean, reason: string): TlsVerdict {
  return { state: pkixTrusted ? 'Trusted' : 'Untrusted', authenticated: false, pkixTrusted, reason };
}

function matchFingerprint(leaf: X509Certificate, fingerprints: Fingerprint[]): { record: string } | null {
  const subjects = [
    { what: 'cert', der: leaf.raw },
    { what: 'pkey', der: spkiOf(leaf) },
  ];
  for (const fp of fingerprints) {
    for (const s of subjects) {
      const digest = createHash(fp.algorithm).update(s.der).digest('hex');
      if (digest === fp.digest.toLowerCase()) return { record: `${s.what} ${fp.algorithm}:${digest}` };
    }
  }
  return null;
}

function describeLeafDigests(leaf: X509Certificate): string {
  const cert = createHash('sha256').update(leaf.raw).digest('hex');
  const pkey = createHash('sha256').update(spkiOf(leaf)).digest('hex');
  return `cert sha256:${cert}, pkey sha256:${pkey}`;
}

function verifyDane(auth: Extract<PeerAuthentication, { kind: 'dane' }>, chain: X509Certificate[], pkixTrusted: boolean, now: Date): TlsVerdict {
  const result = matchDane(auth.records, chain, auth.referenceNames, now);
  if (result.kind === 'nomatch') return unauthenticated(pkixTrusted, result.reason);
  // C8: half-dane authenticates but is logged Trusted, never Verified.
  const state: TlsState = auth.halfDane ? 'Trusted' : 'Verified';
  return { state, authenticated: true, pkixTrusted, matched: { record: formatTlsa(result.record), depth: result.depth } };
}

function verifyPkix(referenceNames: string[], leaf: X509Certificate, pkix: ReturnType<typeof validatePkix>): TlsVerdict {
  if (!pkix.ok) return unauthenticated(false, `certificate not trusted: ${pkix.reason}`);
  const name = matchReferenceName(leaf, referenceNames);
  if (name === null) return unauthenticated(true, `name mismatch: ${describeNameMismatch(leaf, referenceNames)}`);
  return { state: 'Verified', authenticated: true, pkixTrusted: true, matched: { record: `name ${name}`, depth: pkix.depth } };
}

/** Authenticate the peer as `auth` requires (see the module contract). */
export function verifyPeer(auth: PeerAuthentication, chain: PresentedChain, ctx: VerifyContext): TlsVerdict {
  if (chain.certificates.length === 0) {
    const required = auth.kind !== 'none';
    // C18: a peer without a certificate (anonymous cipher suite) never authenticates.
    return { state: 'Anonymous', authenticated: !required, pkixTrusted: false, ...(required ? { reason: 'no certificate presented' } : {}) };
  }
  const parsed = parseChain(chain);
  const leaf = parsed?.[0];
  if (!parsed || !leaf) return { state: 'Untrusted', authenticated: auth.kind === 'none', pkixTrusted: false, reason: 'server certificate cannot be parsed' };
  const pkix = validatePkix(parsed, ctx.trustAnchors, ctx.now);
  switch (auth.kind) {
    case 'none':
      return { state: pkix.ok ? 'Trusted' : 'Untrusted', authenticated: true, pkixTrusted: pkix.ok };
    case 'dane':
      return verifyDane(auth, parsed, pkix.ok, ctx.now);
    case 'fingerprint': {
      const fp = matchFingerprint(leaf, auth.fingerprints);
      if (!fp) return unauthenticated(pkix.ok, `no configured fingerprint matched the certificate (${describeLeafDigests(leaf)})`);
      return { state: 'Verified', authenticated: true, pkixTrusted: pkix.ok, matched: { record: fp.record, depth: 0 } };
    }
    case 'pkix':
      return verifyPkix(auth.referenceNames, leaf, pkix);
  }
}
