/**
 * Certificate name checks against reference identifiers (RFC 7672 §3.2.2,
 * §3.2.3; RFC 7671 §10.2; RFC 6125 §6.4; checklist C24).
 *
 * Contract:
 * - The presented identifiers are the leaf's subjectAltName DNS names; the
 *   subject CN is used only when there are no DNS names (Node/OpenSSL
 *   `subject: 'default'`).
 * - A wildcard matches only as the whole left-most label and only one label
 *   (`*.example.com` matches `mx.example.com`, not `example.com`, not
 *   `a.b.example.com`; `m*.example.com` matches nothing).
 * - A reference name starting with `.` (Postfix `dot-nexthop`, or a literal
 *   `.example.com`) matches any proper subdomain.
 * - Comparison is case-insensitive; trailing dots are ignored.
 *
 * Uses node's `X509Certificate.checkHost` (OpenSSL `X509_check_host`) rather
 * than hand-parsing ASN.1. Pure.
 */
import type { X509Certificate } from 'node:crypto';

/** Options for `checkHost` that implement C24. */
export const CHECK_HOST_OPTIONS = {
  subject: 'default',
  wildcards: true,
  partialWildcards: false,
  multiLabelWildcards: false,
  singleLabelSubdomains: false,
} as const;

/** Lower case, no trailing dot. */
export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

/**
 * A subject or issuer name on one line (`CN=mx.example, O=Example`), for
 * people. Node gives `undefined` for an empty name (a certificate with only
 * subjectAltNames, as RFC 5280 §4.1.2.6 allows): that reads `(empty name)`.
 */
export function nameLine(dn: string | undefined): string {
  const line = (dn ?? '').split('\n').filter((p) => p !== '').join(', ');
  return line === '' ? '(empty name)' : line;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return String(JSON.parse(value));
  } catch {
    return value;
  }
}

/** The leaf's DNS subjectAltNames, or its CN values when it has none (for logs). */
export function certificateNames(cert: X509Certificate): string[] {
  const dns: string[] = [];
  for (const m of (cert.subjectAltName ?? '').matchAll(/(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    dns.push(unquote(m[1] ?? '').toLowerCase());
  }
  if (dns.length > 0) return dns;
  const cns: string[] = [];
  for (const line of (cert.subject ?? '').split('\n')) {
    if (line.startsWith('CN=')) cns.push(line.slice(3).toLowerCase());
  }
  return cns;
}

/** The first reference name the certificate matches, or null (C24). */
export function matchReferenceName(cert: X509Certificate, referenceNames: string[]): string | null {
  for (const raw of referenceNames) {
    const name = normaliseName(raw);
    if (name === '' || name === '.') continue;
    try {
      if (cert.checkHost(name, CHECK_HOST_OPTIONS) !== undefined) return name;
    } catch {
      // An invalid reference name matches nothing.
    }
  }
  return null;
}

/** `certificate names [a, b] do not match [x, y]` */
export function describeNameMismatch(cert: X509Certificate, referenceNames: string[]): string {
  return `certificate names [${certificateNames(cert).join(', ')}] do not match [${referenceNames.map(normaliseName).join(', ')}]`;
}
