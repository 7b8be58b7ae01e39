/**
 * The `_mta-sts.DOMAIN` TXT record (RFC 8461 §3.1), parsed into a typed value.
 *
 * Contract (`parseStsTxt(texts)`), given every TXT string at the name:
 * - strings that do not begin with `v=STSv1;` are discarded (§3.1);
 * - if not exactly one remains, or it does not follow the §3.1 grammar
 *   (`v=STSv1` first, `;`-separated `key=value` fields with optional WSP
 *   around `;`, a required `id` of 1..32 ALPHA/DIGIT, extension names
 *   `(ALPHA/DIGIT) *31(ALPHA/DIGIT/"_"/"-"/".")`, values of printable
 *   ASCII without `;`, `=` or space), the domain has no available policy
 *   (`kind: 'none'`, with the reason for logs and TLSRPT);
 * - a DNS FAILURE is not this function's input: the caller keeps it apart
 *   (non-negotiable 1, C1) — see core/sts-cache-rules.ts.
 * Unknown extension fields are kept, never an error. Pure.
 */

export type StsRecord =
  | { kind: 'record'; id: string; extensions: Record<string, string> }
  | { kind: 'none'; reason: string };

const ID = /^[A-Za-z0-9]{1,32}$/;
const EXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
// sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): printable ASCII except ';' and '='.
const EXT_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;

function parseFields(text: string): StsRecord {
  const parts = text.split(/[ \t]*;[ \t]*/);
  if (parts.at(-1) === '') parts.pop(); // a trailing separator is allowed
  if (parts[0] !== 'v=STSv1') return { kind: 'none', reason: 'record does not start with v=STSv1' };
  let id: string | undefined;
  const extensions: Record<string, string> = {};
  for (const field of parts.slice(1)) {
    const eq = field.indexOf('=');
    const key = eq > 0 ? field.slice(0, eq) : '';
    const value = eq > 0 ? field.slice(eq + 1) : '';
    if (key === 'id') {
      if (id !== undefined) return { kind: 'none', reason: 'more than one id field' };
      if (!ID.test(value)) return { kind: 'none', reason: `invalid id "${value}"` };
      id = value;
    } else if (EXT_NAME.test(key) && EXT_VALUE.test(value)) {
      extensions[key] = value;
    } else {
      return { kind: 'none', reason: `invalid field "${field}"` };
    }
  }
  if (id === undefined) return { kind: 'none', reason: 'no id field' };
  return { kind: 'record', id, extensions };
}

/** The one STS record among the TXT strings at `_mta-sts.DOMAIN`, or why there is none (§3.1). */
export function parseStsTxt(texts: readonly string[]): StsRecord {
  const candidates = texts.filter((t) => t.startsWith('v=STSv1;'));
  if (candidates.length === 0) return { kind: 'none', reason: 'no v=STSv1 TXT record' };
  if (candidates.length > 1) return { kind: 'none', reason: `${candidates.length} v=STSv1 TXT records (exactly one allowed)` };
  return parseFields(candidates[0] ?? '');
}
