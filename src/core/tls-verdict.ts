/**
 * The result of verifying a TLS peer, in Postfix's vocabulary (RFC 7672 §3, C20–C25).
 * Pure data types only; the verification is core/verify-peer.ts.
 */

/** Postfix's TLS session states. Half-dane (insecure MX, C8) is `Trusted`, never `Verified`. */
export type TlsState = 'Verified' | 'Trusted' | 'Untrusted' | 'Anonymous';

/** What the server presented: DER certificates as the server sent them, leaf first. */
export interface PresentedChain {
  certificates: Uint8Array[];
}

export interface TlsVerdict {
  state: TlsState;
  /** True when the policy's authentication requirement is met (always true when none is required). */
  authenticated: boolean;
  /** True when the chain validates to a trusted CA of the local store (PKIX). */
  pkixTrusted: boolean;
  /** The TLSA record (`2 1 1 ab12…`) or fingerprint that matched, and the chain depth (0 = leaf). */
  matched?: { record: string; depth: number };
  /** One line saying why authentication failed, when it did. */
  reason?: string;
}
