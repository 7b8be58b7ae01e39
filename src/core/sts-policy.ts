/**
 * The MTA-STS policy file (RFC 8461 §3.2), parsed into a typed value.
 *
 * Contract (`parseStsPolicy(body)`):
 * - lines end in CRLF or LF; empty lines are ignored; each other line is
 *   `key:` optional WSP `value`, trailing WSP ignored;
 * - `version: STSv1`, `mode: enforce|testing|none` and `max_age` (1..10
 *   digits) are each required exactly once; `mx` may repeat and is required
 *   at least once unless the mode is `none`; an `mx` value is `["*."]
 *   Domain` (letters, digits, hyphens; a trailing dot is dropped; lower-cased);
 * - `max_age` above 31557600 s (§3.2's maximum) is capped to it and the cap
 *   is reported in `warnings` (capping keeps the policy in force; rejecting
 *   it would leave the domain unprotected);
 * - unknown keys with a valid extension name are ignored (§3.2 "MUST
 *   ignore"); any other deviation (unknown mode, bad version, a line without
 *   `:`, a bad name) makes the whole policy `invalid` (TLSRPT
 *   `sts-policy-invalid`, RFC 8460 §4.3.2.2).
 * `lines` keeps the policy's meaningful lines as TLSRPT's `policy-string`
 * (RFC 8460 §4.4). Pure.
 */

export type StsMode = 'enforce' | 'testing' | 'none';

export const STS_MAX_AGE_LIMIT_SECONDS = 31_557_600;

export interface StsPolicy {
  version: 'STSv1';
  mode: StsMode;
  /** MX patterns, lower case, no trailing dot; `*.` prefix for a wildcard. */
  mx: string[];
  /** Seconds, capped at STS_MAX_AGE_LIMIT_SECONDS. */
  maxAge: number;
  /** The lines as published (trimmed), for TLSRPT policy-string. */
  lines: string[];
  warnings: string[];
}

export type StsPolicyParse = { kind: 'policy'; policy: StsPolicy } | { kind: 'invalid'; reason: string };

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** `["*."] Domain` → normalised pattern, or undefined when malformed. */
export function normaliseMxPattern(value: string): string | undefined {
  const v = value.toLowerCase().replace(/\.$/, '');
  const rest = v.startsWith('*.') ? v.slice(2) : v;
  const labels = rest.split('.');
  if (labels.length < 1 || rest.length > 253 || !labels.every((l) => l.length <= 63 && LABEL.test(l))) return undefined;
  return v;
}

interface Fields { version?: string; mode?: string; maxAge?: string; mx: string[]; lines: string[] }

function splitLines(body: string): Fields | string {
  const f: Fields = { mx: [], lines: [] };
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.replace(/[ \t]+$/, '');
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return `line without "key:": "${line.slice(0, 80)}"`;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+/, '');
    if (!KEY.test(key)) return `invalid key "${key.slice(0, 40)}"`;
    if (key === 'mx') f.mx.push(value);
    else if (key === 'version' || key === 'mode' || key === 'max_age') {
      const prop = key === 'max_age' ? 'maxAge' : key;
      if (f[prop] !== undefined) return `${key} given more than once`;
      f[prop] = value;
    } else continue; // §3.2: unknown fields are ignored
    f.lines.push(`${key}: ${value}`);
  }
  return f;
}

export function parseStsPolicy(body: string): StsPolicyParse {
  const f = splitLines(body);
  if (typeof f === 'string') return { kind: 'invalid', reason: f };
  if (f.version !== 'STSv1') return { kind: 'invalid', reason: f.version === undefined ? 'no version' : `unsupported version "${f.version}"` };
  const mode = f.mode;
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') {
    return { kind: 'invalid', reason: mode === undefined ? 'no mode' : `unknown mode "${mode}"` };
  }
  if (f.maxAge === undefined || !/^\d{1,10}$/.test(f.maxAge)) {
    return { kind: 'invalid', reason: f.maxAge === undefined ? 'no max_age' : `invalid max_age "${f.maxAge}"` };
  }
  const mx: string[] = [];
  for (const value of f.mx) {
    const p = normaliseMxPattern(value);
    if (p === undefined) return { kind: 'invalid', reason: `invalid mx pattern "${value.slice(0, 80)}"` };
    mx.push(p);
  }
  if (mx.length === 0 && mode !== 'none') return { kind: 'invalid', reason: `mode ${mode} without any mx pattern` };
  const warnings: string[] = [];
  let maxAge = Number(f.maxAge);
  if (maxAge > STS_MAX_AGE_LIMIT_SECONDS) {
    warnings.push(`max_age ${maxAge} capped to ${STS_MAX_AGE_LIMIT_SECONDS}`);
    maxAge = STS_MAX_AGE_LIMIT_SECONDS;
  }
  return { kind: 'policy', policy: { version: 'STSv1', mode, mx, maxAge, lines: f.lines, warnings } };
}
