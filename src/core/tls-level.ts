/**
 * Postfix's TLS security levels (`smtp_tls_security_level`) and the
 * insecure-MX policy (`smtp_tls_dane_insecure_mx_policy`, RFC 7672 §2.2.1, C8).
 *
 * Ordered by strength: none < may < encrypt < fingerprint < dane < dane-only < verify < secure.
 * Pure: no I/O.
 */

export const TLS_LEVELS = ['none', 'may', 'encrypt', 'fingerprint', 'dane', 'dane-only', 'verify', 'secure'] as const;
export type TlsLevel = (typeof TLS_LEVELS)[number];

export const INSECURE_MX_POLICIES = ['dane', 'encrypt', 'may'] as const;
export type InsecureMxPolicy = (typeof INSECURE_MX_POLICIES)[number];

export function isTlsLevel(value: string): value is TlsLevel {
  return (TLS_LEVELS as readonly string[]).includes(value);
}

export function isInsecureMxPolicy(value: string): value is InsecureMxPolicy {
  return (INSECURE_MX_POLICIES as readonly string[]).includes(value);
}

/** Position of a level in the strength order; larger is stronger. */
export function levelRank(level: TlsLevel): number {
  return TLS_LEVELS.indexOf(level);
}

/** True for the levels at which DANE TLSA records are looked up. */
export function usesDane(level: TlsLevel): boolean {
  return level === 'dane' || level === 'dane-only';
}
