/**
 * Per-destination TLS policy table, Postfix `smtp_tls_policy_maps` style
 * (postconf(5), TLS_README "TLS policy table"; checklist C19 for
 * `dane-only` entries).
 *
 * Sources: a text file in Postfix's format and/or the YAML `tls.policy` map
 * whose values are the same right-hand sides.
 *   # comment
 *   example.com        dane-only
 *   .example.com       may                  (subdomains of example.com)
 *   [mx.example.net]:587 encrypt
 *   example.org        fingerprint match=sha256:AB:CD:..|sha256:..
 *   example.net        secure match=nexthop:dot-nexthop
 *       insecure_mx=encrypt                 (continuation: leading whitespace)
 *
 * Right-hand side: a level (`none`, `may`, `encrypt`, `fingerprint`, `dane`,
 * `dane-only`, `verify`, `secure`) then attributes:
 * - `match=` — `fingerprint`: digests separated by `|`, each hex with or
 *   without colons, optionally prefixed `sha256:`/`sha1:`/`sha512:`
 *   (without a prefix the algorithm follows from the length); `verify` /
 *   `secure`: `:`-separated `hostname`, `nexthop`, `dot-nexthop` or literal
 *   names (`.domain` = any subdomain). May be repeated. Defaults as Postfix:
 *   `verify` → `hostname`, `secure` → `nexthop:dot-nexthop`.
 * - `insecure_mx=dane|encrypt|may` — per-entry dane_insecure_mx_policy (a
 *   dane-relay extension; Postfix has only the global parameter).
 * Any other attribute (Postfix's `ciphers=`, `protocols=`, `tafile=`, …) is
 * rejected rather than silently ignored.
 *
 * Lookup (`lookupPolicy`): a domain next hop tries the exact domain, then
 * parent `.domain` entries nearest first (`a.b.example.com` → `.b.example.com`
 * → `.example.com` → `.com`); a bracketed next hop tries `[host]:port`, then
 * `[host]` (no parent-domain lookups, as Postfix looks up the next hop as
 * written). Nothing found → the defaults (`tls.security_level`,
 * `tls.dane_insecure_mx_policy`).
 *
 * Failure modes: a bad line, key or value throws `ConfigError` naming the
 * file and line, or the `tls.policy` key; a key present in both the YAML map
 * and the file is an error (ambiguous). Pure apart from the error class.
 */
import type { DestinationPolicy, Fingerprint } from '../core/effective-policy.ts';
import { defaultMatch } from '../core/policy.ts';
import { isInsecureMxPolicy, isTlsLevel, type InsecureMxPolicy, type TlsLevel } from '../core/tls-level.ts';
import { ConfigError } from './errors.ts';

/** One parsed right-hand side; `insecureMxPolicy` only when the entry sets it. */
export interface PolicyEntry {
  level: TlsLevel;
  fingerprints: Fingerprint[];
  match: string[];
  insecureMxPolicy?: InsecureMxPolicy;
}

export interface PolicyTable {
  /** Normalised key (`example.com`, `.example.com`, `[mx.example.net]:587`) → entry. */
  entries: Map<string, PolicyEntry>;
}

/** Thrown inside this module; rethrown as ConfigError with the location prefixed. */
class ValueError extends Error {}

const DIGEST_BYTES: Record<number, Fingerprint['algorithm']> = { 20: 'sha1', 32: 'sha256', 64: 'sha512' };
const NAME_RE = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function parseFingerprint(text: string): Fingerprint {
  const m = /^(sha1|sha256|sha512):(.*)$/i.exec(text);
  const hex = (m ? (m[2] ?? '') : text).replace(/:/g, '').toLowerCase();
  if (!/^([0-9a-f]{2})+$/.test(hex)) throw new ValueError(`bad fingerprint "${text}"`);
  const byLength = DIGEST_BYTES[hex.length / 2];
  const algorithm = m ? ((m[1] ?? '').toLowerCase() as Fingerprint['algorithm']) : byLength;
  if (!algorithm || byLength !== algorithm) throw new ValueError(`fingerprint "${text}" has ${hex.length / 2} bytes, not a ${algorithm ?? 'sha1/sha256/sha512'} digest`);
  return { algorithm, digest: hex };
}

function parseMatchName(text: string): string {
  const s = text.toLowerCase().replace(/\.+$/, '');
  if (s === 'hostname' || s === 'nexthop' || s === 'dot-nexthop') return s;
  if (!NAME_RE.test(s.startsWith('.') ? s.slice(1) : s)) throw new ValueError(`bad match name "${text}"`);
  return s;
}

function applyAttribute(entry: PolicyEntry, attr: string): void {
  const eq = attr.indexOf('=');
  const name = eq < 0 ? attr : attr.slice(0, eq).toLowerCase();
  const value = eq < 0 ? '' : attr.slice(eq + 1);
  if (eq < 0 || value === '') throw new ValueError(`expected name=value, got "${attr}"`);
  if (name === 'insecure_mx') {
    const v = value.toLowerCase();
    if (!isInsecureMxPolicy(v)) throw new ValueError(`insecure_mx must be dane, encrypt or may, got "${value}"`);
    entry.insecureMxPolicy = v;
  } else if (name === 'match') {
    if (entry.level === 'fingerprint') entry.fingerprints.push(...value.split('|').map(parseFingerprint));
    else if (entry.level === 'verify' || entry.level === 'secure') entry.match.push(...value.split(':').map(parseMatchName));
    else throw new ValueError(`match= is not allowed at level ${entry.level}`);
  } else {
    throw new ValueError(`unsupported attribute "${name}"`);
  }
}

function parseEntry(rhs: string): PolicyEntry {
  const [levelWord, ...attrs] = rhs.trim().split(/\s+/).filter((w) => w !== '');
  const level = (levelWord ?? '').toLowerCase();
  if (!isTlsLevel(level)) throw new ValueError(`unknown security level "${levelWord ?? ''}"`);
  const entry: PolicyEntry = { level, fingerprints: [], match: [] };
  for (const attr of attrs) applyAttribute(entry, attr);
  if (level === 'fingerprint' && entry.fingerprints.length === 0) throw new ValueError('fingerprint level needs match=<digest>');
  if (entry.match.length === 0) entry.match = defaultMatch(level);
  return entry;
}

function toPolicy(entry: PolicyEntry, insecureMxPolicy: InsecureMxPolicy, source: string): DestinationPolicy {
  return { level: entry.level, fingerprints: [...entry.fingerprints], match: [...entry.match], insecureMxPolicy: entry.insecureMxPolicy ?? insecureMxPolicy, source };
}

/** Parse one right-hand side (`dane-only`, `secure match=nexthop`, …); `source` of the result is `value`. */
export function parsePolicyValue(rhs: string, defaults: { insecureMxPolicy: InsecureMxPolicy }): DestinationPolicy {
  try {
    return toPolicy(parseEntry(rhs), defaults.insecureMxPolicy, 'value');
  } catch (err) {
    if (err instanceof ValueError) throw new ConfigError(`TLS policy "${rhs.trim()}": ${err.message}`);
    throw err;
  }
}

/** Normalise a table key; throws ValueError when it is not a domain, `.domain`, `[host]` or `[host]:port`. */
export function normalisePolicyKey(key: string): string {
  const k = key.trim().toLowerCase();
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(k);
  if (bracket) {
    const host = (bracket[1] ?? '').replace(/\.+$/, '');
    const port = bracket[2] === undefined ? undefined : Number(bracket[2]);
    if (!NAME_RE.test(host) && !/^[0-9a-f:.]+$/.test(host)) throw new ValueError(`bad host in key "${key}"`);
    if (port !== undefined && (port < 1 || port > 65535)) throw new ValueError(`bad port in key "${key}"`);
    return port === undefined ? `[${host}]` : `[${host}]:${port}`;
  }
  const domain = k.replace(/\.+$/, '');
  const bare = domain.startsWith('.') ? domain.slice(1) : domain;
  if (!NAME_RE.test(bare)) throw new ValueError(`bad key "${key}": expected domain, .domain, [host] or [host]:port`);
  return domain;
}

function addEntry(table: PolicyTable, key: string, rhs: string, where: string): void {
  try {
    const k = normalisePolicyKey(key);
    if (table.entries.has(k)) throw new ValueError(`duplicate key "${k}"`);
    table.entries.set(k, parseEntry(rhs));
  } catch (err) {
    if (err instanceof ValueError) throw new ConfigError(`${where}: ${err.message}`);
    throw err;
  }
}

/** Logical lines: comments and blank lines dropped, continuation lines joined (line number of the first). */
function logicalLines(text: string, source: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    if (/^\s*(#|$)/.test(raw)) continue;
    const last = out[out.length - 1];
    if (/^\s/.test(raw) && last) last.text += ` ${raw.trim()}`;
    else if (/^\s/.test(raw)) throw new ConfigError(`${source}: line ${i + 1}: continuation line without a preceding entry`);
    else out.push({ line: i + 1, text: raw.trim() });
  }
  return out;
}

function parseInto(table: PolicyTable, text: string, source: string): void {
  for (const { line, text: entry } of logicalLines(text, source)) {
    const m = /^(\S+)\s+(.+)$/.exec(entry);
    if (!m) throw new ConfigError(`${source}: line ${line}: expected "key value"`);
    addEntry(table, m[1] ?? '', m[2] ?? '', `${source}: line ${line}`);
  }
}

/** Parse a policy file in Postfix's text format; `source` names the file in errors. */
export function parsePolicyTable(text: string, source: string): PolicyTable {
  const table: PolicyTable = { entries: new Map() };
  parseInto(table, text, source);
  return table;
}

/**
 * The table from the YAML `tls.policy` map plus, optionally, the text of
 * `tls.policy_file`; `fileSource` names the file in errors.
 */
export function buildPolicyTable(entries: Record<string, string>, fileText?: string, fileSource = 'tls.policy_file'): PolicyTable {
  const table = fileText === undefined ? { entries: new Map<string, PolicyEntry>() } : parsePolicyTable(fileText, fileSource);
  for (const [key, rhs] of Object.entries(entries)) {
    let k: string;
    try {
      k = normalisePolicyKey(key);
    } catch (err) {
      if (err instanceof ValueError) throw new ConfigError(`tls.policy.${key}: ${err.message}`);
      throw err;
    }
    if (table.entries.has(k)) throw new ConfigError(`tls.policy.${key}: also defined in tls.policy_file`);
    addEntry(table, key, rhs, `tls.policy.${key}`);
  }
  return table;
}

function lookupKeys(nextHop: { domain: string; bracketed?: { host: string; port: number } }): string[] {
  if (nextHop.bracketed) {
    const host = nextHop.bracketed.host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
    return [`[${host}]:${nextHop.bracketed.port}`, `[${host}]`];
  }
  const domain = nextHop.domain.toLowerCase().replace(/\.+$/, '');
  const labels = domain.split('.');
  const parents = labels.slice(1).map((_, i) => `.${labels.slice(i + 1).join('.')}`);
  return [domain, ...parents];
}

/** Exact key, then parent `.domain` entries nearest first, then the defaults. */
export function lookupPolicy(
  table: PolicyTable,
  nextHop: { domain: string; bracketed?: { host: string; port: number } },
  defaults: { level: TlsLevel; insecureMxPolicy: InsecureMxPolicy },
): DestinationPolicy {
  for (const key of lookupKeys(nextHop)) {
    const entry = table.entries.get(key);
    if (entry) return toPolicy(entry, defaults.insecureMxPolicy, key);
  }
  return { level: defaults.level, fingerprints: [], match: defaultMatch(defaults.level), insecureMxPolicy: defaults.insecureMxPolicy, source: 'default' };
}
