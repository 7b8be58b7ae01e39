/**
 * What the policy engine tells the delivery engine about one MX host
 * (RFC 7672 §2.2, checklist C8, C14–C19). Pure data types only; the decision
 * itself lives in core/policy.ts.
 */
import type { RefusalCause } from './refusal-cause.ts';
import type { InsecureMxPolicy, TlsLevel } from './tls-level.ts';

/** A TLSA record that is usable for SMTP (C13): DANE-TA(2) or DANE-EE(3), known selector and matching type, right length. */
export interface UsableTlsa {
  usage: 2 | 3;
  selector: 0 | 1;
  matchingType: 0 | 1 | 2;
  data: Uint8Array;
}

/** A pinned certificate or public-key digest for the `fingerprint` level (Postfix `match=`). */
export interface Fingerprint {
  algorithm: 'sha256' | 'sha1' | 'sha512';
  /** Lower-case hex, no colons. */
  digest: string;
}

/** Per-destination policy, the result of the policy-table lookup (Postfix smtp_tls_policy_maps). */
export interface DestinationPolicy {
  level: TlsLevel;
  /** `fingerprint` level: certificate or public-key digests, either may match. */
  fingerprints: Fingerprint[];
  /** `verify`/`secure`: Postfix match= strategies (`hostname`, `nexthop`, `dot-nexthop`) or literal names. */
  match: string[];
  insecureMxPolicy: InsecureMxPolicy;
  /** Where the policy came from, for logs: `default` or the table key that matched. */
  source: string;
}

/** How the peer must be authenticated once TLS is up. */
export type PeerAuthentication =
  | { kind: 'none' }
  | { kind: 'dane'; records: UsableTlsa[]; referenceNames: string[]; halfDane: boolean }
  | { kind: 'fingerprint'; fingerprints: Fingerprint[] }
  | { kind: 'pkix'; referenceNames: string[] };

/** DANE result vocabulary shared by logs, metrics and report. */
export type DaneResult = 'ok' | 'unusable' | 'not_applicable' | 'insecure_chain' | 'tempfail';

export type EffectivePolicy =
  | {
      /** Do not use this host at all (C4, C19): e.g. TLSA lookup failure, dane-only without usable TLSA. */
      kind: 'skip';
      dsn: string;
      /** Postfix wording, e.g. `TLSA lookup error for mx.example.com:25`. */
      message: string;
      /** `tlsa_lookup_failure` (C4), `dane_required` (C19), or an MTA-STS failure (core/sts-precedence). */
      cause: Extract<RefusalCause, 'tlsa_lookup_failure' | 'dane_required' | 'sts_policy_failure' | 'sts_mx_mismatch'>;
      daneResult: DaneResult;
      level: TlsLevel;
    }
  | {
      kind: 'connect';
      /** Effective level for this host after DANE/insecure-MX adjustments. */
      level: TlsLevel;
      /** The configured level the effective one derives from. */
      configuredLevel: TlsLevel;
      /** TLS mandatory: STARTTLS missing/refused/failing means this host is not used (C14). */
      tlsRequired: boolean;
      /** At `may`: TLS is attempted; a failed handshake may be retried in plaintext once. */
      tlsAttempt: boolean;
      auth: PeerAuthentication;
      /** SNI to send: the TLSA base domain with usable TLSA (C17), else the MX host name, or null for none. */
      sni: string | null;
      /** TLSA base domain (C11), when TLSA records governed. */
      tlsaBase: string | null;
      /** Postfix 3.11 `tls=` feature status, e.g. `dane`, `dane:encrypt`, `dane:halfdane`, `may:none`, `dane?`. */
      feature: string;
      daneResult: DaneResult;
      /** One line explaining the decision, for logs. */
      reason: string;
    };
