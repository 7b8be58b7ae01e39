/**
 * The one DNS result type every caller uses (RFC 7672 §2.1.1, checklist C1).
 *
 * Contract: a lookup ends in exactly one of five kinds, and each says what the
 * relay may conclude:
 * - `secure`   records validated by a trusted resolver (AD bit believed, C6);
 * - `insecure` records, not validated (or from an untrusted resolver);
 * - `nxdomain` / `nodata` the name or type does not exist, `secure` telling
 *   whether that denial was validated;
 * - `failure`  SERVFAIL (how a validating resolver reports bogus data),
 *   timeout, REFUSED, malformed answer, CNAME loop… A failure is never
 *   "absent" and never "insecure": callers defer (C1, C3, C4).
 *
 * Pure types: shared by dns/ (which produces them) and core/ (which decides).
 */

export type RecordType = 'A' | 'AAAA' | 'MX' | 'TLSA' | 'CNAME' | 'NS' | 'SOA' | 'TXT';

export interface MxRecord { type: 'MX'; name: string; ttl: number; preference: number; exchange: string }
export interface ARecord { type: 'A'; name: string; ttl: number; address: string }
export interface AaaaRecord { type: 'AAAA'; name: string; ttl: number; address: string }
export interface CnameRecord { type: 'CNAME'; name: string; ttl: number; target: string }
export interface NsRecord { type: 'NS'; name: string; ttl: number; target: string }
export interface SoaRecord { type: 'SOA'; name: string; ttl: number; mname: string; minimum: number }
export interface TxtRecord { type: 'TXT'; name: string; ttl: number; text: string }
/** RFC 6698 §2.1 wire fields; `data` is the certificate association data. */
export interface TlsaRecord {
  type: 'TLSA'; name: string; ttl: number;
  usage: number; selector: number; matchingType: number; data: Uint8Array;
}

export interface RecordByType {
  A: ARecord; AAAA: AaaaRecord; MX: MxRecord; TLSA: TlsaRecord;
  CNAME: CnameRecord; NS: NsRecord; SOA: SoaRecord; TXT: TxtRecord;
}

export type DnsFailureReason =
  | 'servfail' | 'refused' | 'timeout' | 'malformed' | 'network'
  | 'cname-loop' | 'cname-limit' | 'other-rcode';

interface Answered<R> {
  /** Records of the asked type at `canonicalName` (owner after CNAMEs). */
  records: R[];
  /** Name asked, always absolute without trailing dot, lower case. */
  qname: string;
  /** Final owner name after following CNAMEs (== qname when none). */
  canonicalName: string;
  /** Every CNAME link followed, in order. Empty when none. */
  cnames: CnameRecord[];
}

export type DnsResult<R> =
  | ({ kind: 'secure' } & Answered<R>)
  | ({ kind: 'insecure' } & Answered<R>)
  | { kind: 'nxdomain'; secure: boolean; qname: string; canonicalName: string; cnames: CnameRecord[] }
  | { kind: 'nodata'; secure: boolean; qname: string; canonicalName: string; cnames: CnameRecord[] }
  | { kind: 'failure'; reason: DnsFailureReason; qname: string; detail: string };

/** The lookup service the rest of the relay depends on (implemented in dns/). */
export interface DnsLookup {
  lookup<T extends keyof RecordByType>(name: string, type: T): Promise<DnsResult<RecordByType[T]>>;
}
