/**
 * Check targets: a bare mail domain (checked through its MX, as `check`
 * always did) or a service URL (RFC 6698 §3: TLSA at `_PORT._tcp.HOST`).
 *
 * Contract: `parseTarget` accepts `smtp://host[:port]` (STARTTLS, 25; the
 * host itself, RFC 7672 rules), `submission://host[:587]` (STARTTLS),
 * `smtps://host[:465]`, `imap://host[:143]` (STARTTLS), `imaps://host[:993]`,
 * `https://host[:443]`; the others use the RFC 7671 `service` profile
 * (core/tlsa `TlsaProfile`). No path, query, user or IP literal (a TLSA owner
 * needs a name). Returns `{ error }` for anything else; never throws. Pure.
 */
import { isIP } from 'node:net';
import type { TlsaProfile } from '../../core/tlsa.ts';
import { normaliseDomain } from '../check/domain-list.ts';

export type Starttls = 'smtp' | 'imap' | 'none';

export interface ServiceTarget {
  kind: 'service';
  /** As given, normalised: `https://www.example.org:443`. */
  url: string;
  scheme: keyof typeof SCHEMES;
  host: string;
  port: number;
  starttls: Starttls;
  profile: TlsaProfile;
}

export type CheckTarget = { kind: 'domain'; domain: string } | ServiceTarget;

export const SCHEMES = {
  smtp: { port: 25, starttls: 'smtp', profile: 'smtp' },
  submission: { port: 587, starttls: 'smtp', profile: 'service' },
  smtps: { port: 465, starttls: 'none', profile: 'service' },
  imap: { port: 143, starttls: 'imap', profile: 'service' },
  imaps: { port: 993, starttls: 'none', profile: 'service' },
  https: { port: 443, starttls: 'none', profile: 'service' },
} as const satisfies Record<string, { port: number; starttls: Starttls; profile: TlsaProfile }>;

export function isServiceUrl(s: string): boolean {
  return s.includes('://');
}

function parseUrl(input: string): ServiceTarget | { error: string } {
  const m = /^([a-z]+):\/\/([^/:?#@\s]+)(?::(\d{1,5}))?\/?$/i.exec(input.trim());
  if (!m) return { error: `"${input}": expected SCHEME://HOST[:PORT] (no path, user or query)` };
  const scheme = (m[1] ?? '').toLowerCase();
  if (!Object.hasOwn(SCHEMES, scheme)) return { error: `"${input}": unknown scheme ${scheme} (one of ${Object.keys(SCHEMES).join(', ')})` };
  const def = SCHEMES[scheme as keyof typeof SCHEMES];
  const rawHost = m[2] ?? '';
  if (isIP(rawHost) !== 0) return { error: `"${input}": an IP address has no TLSA owner name; give the host name` };
  const host = normaliseDomain(rawHost);
  if (host === null) return { error: `"${input}": invalid host name` };
  const port = m[3] === undefined ? def.port : Number(m[3]);
  if (port < 1 || port > 65535) return { error: `"${input}": port must be 1..65535` };
  return { kind: 'service', url: `${scheme}://${host}:${port}`, scheme: scheme as keyof typeof SCHEMES, host, port, starttls: def.starttls, profile: def.profile };
}

export function parseTarget(input: string): CheckTarget | { error: string } {
  if (isServiceUrl(input)) return parseUrl(input);
  const domain = normaliseDomain(input);
  return domain === null ? { error: `"${input}": not a domain name` } : { kind: 'domain', domain };
}
