/**
 * The facts `dane-relay check` reports, as plain data: the same object is
 * printed for people (render-text.ts) and as `--json` for scripts, so both
 * always say the same thing.
 *
 * Vocabulary is the relay's (DESIGN.md): TLS states `Verified`/`Trusted`/
 * `Untrusted`/`Anonymous`, DANE results `ok`/`unusable`/`not_applicable`/
 * `insecure_chain`/`tempfail`, `tls=` feature status, Postfix-wording reasons.
 *
 * Verdicts:
 * - per address: `pass` (the relay would use it), `fail` (a DANE/TLS/DNSSEC
 *   failure: DSN 4.7.x or a DNS lookup error — the relay skips it), `error`
 *   (not reachable or refused at the SMTP level: not a DANE problem);
 * - per domain: `fail` when the relay would not deliver now (reason = what the
 *   relay would log), `degraded` when it would deliver but some MX host or
 *   address fails DANE, else `pass` (with notes).
 * Pure types only.
 */
import type { DaneResult } from '../../core/effective-policy.ts';
import type { TlsLevel } from '../../core/tls-level.ts';
import type { TlsState } from '../../core/tls-verdict.ts';

export type AddressVerdict = 'pass' | 'fail' | 'error';
export type DomainVerdict = 'pass' | 'degraded' | 'fail';

/** One TLSA record of the RRset as published. */
export interface TlsaRecordReport {
  /** Presentation form `3 1 1 ab12…` (full hex). */
  record: string;
  /** `DANE-EE(3) SPKI(1) SHA2-256(1)` (RFC 7218, C20). */
  description: string;
  /** Usable for SMTP after digest agility (C13, C26). */
  usable: boolean;
  /** Why it does not count, when it does not. */
  note?: string;
}

export interface TlsaReport {
  /** `records` / `unusable` (secure RRset), `not-applicable`, `tempfail`, or `not-looked-up` (C10 / level without DANE). */
  status: 'records' | 'unusable' | 'not-applicable' | 'tempfail' | 'not-looked-up';
  /** DNSSEC status in words: `secure`, `insecure`, `securely absent (nxdomain)`, `lookup failed`, … */
  dnssec: string;
  /** `_25._tcp.BASE` when an RRset governed. */
  owner: string | null;
  base: string | null;
  records: TlsaRecordReport[];
  detail?: string;
}

/** One TLSA record checked against one certificate of the presented chain. */
export interface TlsaMark { record: string; matched: boolean }

export interface CertReport {
  depth: number;
  /** null when the certificate does not parse. */
  subject: string | null;
  issuer: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** SHA-256 of the DER certificate, lower-case hex. */
  sha256: string;
  /** Usable TLSA records that can match at this depth (DANE-EE at 0, DANE-TA at >= 1), each marked. */
  marks: TlsaMark[];
}

export interface ChainReport {
  /** Always `session`: the chain the relay's own session verified. */
  source: 'session';
  certificates: CertReport[];
  /** Why the chain could not be shown, when it could not. */
  error?: string;
}

export interface PolicyReport {
  kind: 'connect' | 'skip';
  level: TlsLevel;
  /** `tls=` feature status before the session (Postfix 3.11 scheme). */
  feature: string;
  daneResult: DaneResult;
  tlsRequired: boolean;
  /** `none`, `dane`, `dane (half-dane)`, `fingerprint`, `pkix`. */
  auth: string;
  sni: string | null;
  reason: string;
}

export interface AddressReport {
  ip: string;
  port: number;
  verdict: AddressVerdict;
  /** Why the relay would not use this address (Postfix wording). */
  reason: string | null;
  dsn: string | null;
  /** Why verification failed, in detail (core verifyPeer). */
  detail: string | null;
  sni: string | null;
  tls: { protocol: string | null; cipher: string | null; bits: number | null } | null;
  state: TlsState | null;
  /** `tls=` feature status after the session. */
  feature: string;
  matched: { record: string; depth: number } | null;
  chain: ChainReport | null;
  plaintextFallback: boolean;
  injectionBytes: number;
  /** MTA-STS testing: what enforce would have said of this session (reported only, RFC 8461 §5). */
  stsTesting?: string;
}

export interface HostReport {
  host: string;
  preference: number | null;
  port: number;
  addresses: { list: string[]; secure: boolean | null };
  tlsa: TlsaReport;
  policy: PolicyReport | null;
  /** Which policy source governs the host (core/sts-precedence): `policy_type=… source=… -> …`. */
  source?: string;
  /** The host is not used at all (TLSA lookup error, no address, dane-only…). */
  skipped: { dsn: string; reason: string } | null;
  connections: AddressReport[];
}

export interface MxReport {
  /** `mx`, `implicit` (no MX: the domain itself, C9), `bracketed` (transport `[host]`), or null when there is no route. */
  route: 'mx' | 'implicit' | 'bracketed' | null;
  /** `secure`, `insecure`, `nxdomain`, `null MX`, `lookup failed`, … */
  dnssec: string;
  records: Array<{ preference: number; host: string }>;
}

export interface DomainReport {
  domain: string;
  nextHop: string;
  verdict: DomainVerdict;
  /** The relay's reason when not `pass`. */
  reason: string | null;
  dsn: string | null;
  /** The address the relay would deliver to, `host[ip]:port`. */
  deliverVia: string | null;
  notes: string[];
  policy: { level: TlsLevel; source: string } | null;
  /** The MTA-STS record and policy as the relay sees them, when a host needed them (sts/describe.ts). */
  sts?: string;
  mx: MxReport;
  hosts: HostReport[];
}

export interface CheckReport {
  version: 1;
  /** The level forced with `--level`, or null (policy table / tls.security_level). */
  level: TlsLevel | null;
  dnssecProbe: { ok: boolean; reason?: string };
  domains: DomainReport[];
  summary: { domains: number; pass: number; degraded: number; fail: number };
  exitCode: 0 | 1 | 2;
}
