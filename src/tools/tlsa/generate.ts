/**
 * `tlsa generate`: TLSA records for a certificate chain as zone-file lines
 * (RFC 6698 §2.1 data, RFC 7218 names, RFC 7672 §3.1 usages; C12, C13, C20, C21).
 *
 * Contract (pure; data from core `tlsaDataFor`, text from `formatTlsa`):
 * - default: `3 1 1` for the leaf key (depth 0) and, when the next
 *   certificate in the file really issued the leaf, `2 1 1` for that CA key
 *   (depth 1) — the pair RFC 7671 §8.1 recommends for rollover safety;
 * - with any of usage/selector/matchingType given: one record, the missing
 *   fields defaulting to 3 / 1 / 1; usage 2 uses the issuing CA;
 * - owner `_PORT._tcp.HOST.` — HOST is the given host or the leaf's first
 *   non-wildcard DNS name; PORT defaults to 25 (C12: the port clients connect to);
 * - PKIX usages 0/1 and unknown values are refused (unusable for SMTP, C21/C27);
 * - errors are `{ kind: 'error' }` values, never exceptions.
 */
import { describeTlsa, formatTlsa, tlsaDataFor, toHex, usableTlsa } from '../../core/tlsa.ts';
import { DAY_MS, isIssuerOf, type CertInfo } from './pem.ts';
import { normaliseName } from '../../core/reference-names.ts';

export interface GenerateOptions { host?: string; port: number; usage?: number; selector?: number; matchingType?: number; now: Date }
export interface GeneratedRecord {
  owner: string; usage: 2 | 3; selector: 0 | 1; matchingType: 0 | 1 | 2; data: string;
  /** Ready-to-paste zone-file line. */
  line: string; description: string; depth: number; subject: string; notAfter: string;
}
export type GenerateResult =
  | { kind: 'ok'; owner: string; records: GeneratedRecord[]; warnings: string[] }
  | { kind: 'error'; message: string };

interface Spec { usage: 2 | 3; selector: 0 | 1; matchingType: 0 | 1 | 2 }

/** The host name for the owner: explicit, else the leaf's first DNS name that is not a wildcard. */
export function ownerHost(leaf: CertInfo, host: string | undefined): string | undefined {
  const name = host ?? leaf.names.find((n) => !n.includes('*'));
  return name === undefined ? undefined : normaliseName(name) || undefined;
}

function specs(opts: GenerateOptions, chainLength: number): Spec[] | string {
  if (opts.usage === undefined && opts.selector === undefined && opts.matchingType === undefined) {
    return chainLength > 1 ? [{ usage: 3, selector: 1, matchingType: 1 }, { usage: 2, selector: 1, matchingType: 1 }] : [{ usage: 3, selector: 1, matchingType: 1 }];
  }
  const usage = opts.usage ?? 3;
  const selector = opts.selector ?? 1;
  const matchingType = opts.matchingType ?? 1;
  if (usage === 0 || usage === 1) return `usage ${usage} (PKIX) is not usable for SMTP (RFC 7672 §3.1.3): use 3 (DANE-EE) or 2 (DANE-TA)`;
  if (usage !== 2 && usage !== 3) return `unknown usage ${usage}: use 3 (DANE-EE) or 2 (DANE-TA)`;
  if (selector !== 0 && selector !== 1) return `unknown selector ${selector}: use 1 (SPKI) or 0 (Cert)`;
  if (matchingType !== 0 && matchingType !== 1 && matchingType !== 2) return `unknown matching type ${matchingType}: use 1 (SHA2-256), 2 (SHA2-512) or 0 (Full)`;
  return [{ usage, selector, matchingType }];
}

function warningsFor(spec: Spec, cert: CertInfo, now: Date): string[] {
  const w: string[] = [];
  if (spec.usage === 3 && spec.selector === 0) w.push(`${spec.usage} 0 ${spec.matchingType} pins the whole certificate: it stops matching at every renewal; prefer 3 1 1 (the key survives renewals that keep it)`);
  if (spec.matchingType === 0) w.push('matching type 0 (Full) publishes the whole certificate or key; 1 (SHA2-256) is the usual choice');
  const days = Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS);
  if (spec.usage === 2 && days < 30) w.push(`the issuing CA ${cert.subject} expires in ${days} days (${cert.notAfter.toISOString()}): the 2 x x record will stop matching when the CA is replaced`);
  return w;
}

function record(owner: string, spec: Spec, cert: CertInfo, depth: number): GeneratedRecord {
  const data = tlsaDataFor(cert.der, spec.selector, spec.matchingType);
  return {
    owner, ...spec, data: toHex(data), depth, subject: cert.subject, notAfter: cert.notAfter.toISOString(),
    line: `${owner} IN TLSA ${formatTlsa({ ...spec, data })}`, description: describeTlsa(spec),
  };
}

export function generateTlsa(chain: CertInfo[], opts: GenerateOptions): GenerateResult {
  const leaf = chain[0];
  if (!leaf) return { kind: 'error', message: 'no certificate' };
  const host = ownerHost(leaf, opts.host);
  if (!host) return { kind: 'error', message: 'the certificate has no usable DNS name: give --host' };
  const owner = `_${opts.port}._tcp.${host}.`;
  const issuer = chain[1] && isIssuerOf(leaf, chain[1]) ? chain[1] : undefined;
  const wanted = specs(opts, issuer ? 2 : 1);
  if (typeof wanted === 'string') return { kind: 'error', message: wanted };
  const warnings: string[] = [];
  if (chain.length > 1 && !issuer) warnings.push('the second certificate in the file did not issue the leaf: no 2 x x record for it');
  const records: GeneratedRecord[] = [];
  for (const spec of wanted) {
    const cert = spec.usage === 3 ? leaf : issuer;
    if (!cert) return { kind: 'error', message: 'usage 2 (DANE-TA) needs the issuing CA certificate after the leaf in the file' };
    warnings.push(...warningsFor(spec, cert, opts.now));
    records.push(record(owner, spec, cert, spec.usage === 3 ? 0 : 1));
  }
  // Self-check: what we print must be usable by the relay itself (C13).
  const check = usableTlsa(records.map((r) => ({ ...r, data: Buffer.from(r.data, 'hex') })));
  if (check.length !== records.length) return { kind: 'error', message: 'internal error: a generated record is not usable' };
  return { kind: 'ok', owner, records, warnings };
}
