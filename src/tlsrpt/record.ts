/**
 * The `_smtp._tls.DOMAIN` TXT record (RFC 8460 §3), parsed. Pure.
 *
 * Contract (`parseTlsrptTxt(texts)`):
 * - strings not beginning with `v=TLSRPTv1` followed by `;` (optional WSP
 *   before it) are discarded; if not exactly one remains, the domain does
 *   not ask for reports (`none`, §3);
 * - fields are `;`-separated with optional WSP; `rua=` is required once and
 *   holds one or more comma-separated URIs (WSP allowed around commas);
 *   only `mailto:` (with an address) and `https:` URIs are used; others are
 *   ignored and listed in `ignored`; a record with no usable URI is `none`;
 * - extension fields `name=value` are ignored; a field without `=` or a
 *   second `rua` makes the record invalid (`none`).
 */

export type TlsrptRua = { kind: 'mailto'; address: string; uri: string } | { kind: 'https'; url: string; uri: string };

export type TlsrptRecord =
  | { kind: 'record'; rua: TlsrptRua[]; ignored: string[] }
  | { kind: 'none'; reason: string };

const EXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

function parseUri(uri: string): TlsrptRua | null {
  const lower = uri.toLowerCase();
  if (lower.startsWith('mailto:')) {
    const address = decodeURIComponent(uri.slice(7).split('?')[0] ?? '');
    return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address) ? { kind: 'mailto', address, uri } : null;
  }
  if (lower.startsWith('https:')) {
    try {
      const u = new URL(uri);
      return u.protocol === 'https:' && u.hostname !== '' ? { kind: 'https', url: u.toString(), uri } : null;
    } catch {
      return null;
    }
  }
  return null;
}

function parseFields(text: string): TlsrptRecord {
  const parts = text.split(/[ \t]*;[ \t]*/);
  if (parts.at(-1) === '') parts.pop();
  let ruaText: string | undefined;
  for (const field of parts.slice(1)) {
    const eq = field.indexOf('=');
    if (eq <= 0) return { kind: 'none', reason: `invalid field "${field}"` };
    const key = field.slice(0, eq);
    if (key === 'rua') {
      if (ruaText !== undefined) return { kind: 'none', reason: 'more than one rua field' };
      ruaText = field.slice(eq + 1);
    } else if (!EXT_NAME.test(key)) return { kind: 'none', reason: `invalid field name "${key}"` };
  }
  if (ruaText === undefined) return { kind: 'none', reason: 'no rua field' };
  const rua: TlsrptRua[] = [];
  const ignored: string[] = [];
  for (const uri of ruaText.split(/[ \t]*,[ \t]*/).filter((u) => u !== '')) {
    const parsed = parseUri(uri);
    if (parsed) rua.push(parsed);
    else ignored.push(uri);
  }
  if (rua.length === 0) return { kind: 'none', reason: 'rua has no usable mailto: or https: URI' };
  return { kind: 'record', rua, ignored };
}

export function parseTlsrptTxt(texts: readonly string[]): TlsrptRecord {
  const candidates = texts.filter((t) => /^v=TLSRPTv1[ \t]*;/.test(t));
  if (candidates.length === 0) return { kind: 'none', reason: 'no v=TLSRPTv1 TXT record' };
  if (candidates.length > 1) return { kind: 'none', reason: `${candidates.length} v=TLSRPTv1 TXT records (exactly one allowed)` };
  return parseFields(candidates[0] ?? '');
}
