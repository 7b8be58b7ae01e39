/**
 * MTA-STS MX host validation (RFC 8461 §4.1).
 *
 * Contract:
 * - `mxPatternMatches(pattern, host)`: case-insensitive, trailing dots
 *   ignored; a pattern `*.example.com` covers exactly ONE label in place of
 *   the `*` (`mx.example.com`, not `example.com`, not `a.b.example.com`);
 *   any other pattern must equal the host name. An empty label never matches.
 * - `policyAllowsMx(patterns, host)`: true when any pattern matches.
 * Pure.
 */

function norm(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

export function mxPatternMatches(pattern: string, host: string): boolean {
  const p = norm(pattern);
  const h = norm(host);
  if (p === '' || h === '') return false;
  if (!p.startsWith('*.')) return p === h;
  const dot = h.indexOf('.');
  if (dot <= 0) return false; // the wildcard label must not be empty
  // §4.1: the wildcard replaces exactly the left-most label.
  return h.slice(dot + 1) === p.slice(2);
}

export function policyAllowsMx(patterns: readonly string[], host: string): boolean {
  return patterns.some((p) => mxPatternMatches(p, host));
}
