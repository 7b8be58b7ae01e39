/**
 * The per-domain transport table, Postfix `transport(5)` style: which next hop
 * mail for a recipient domain goes to instead of the domain's MX hosts.
 *
 *   example.com      [10.0.0.5]:2525     # brackets: no MX lookup, connect to that host
 *   .example.com     relay.example.net   # subdomains; no brackets: MX lookup on that name
 *   other.example    smtp:[mx.other.example]
 *   *                [smarthost.example]:587
 *
 * Contract:
 * - Values: `[host]`, `[host]:port`, `host`, `host:port`, IPv6 literals as
 *   `[2001:db8::1]:25` or `[ipv6:2001:db8::1]`, optionally prefixed with the
 *   transport name `smtp:`. An empty next hop (`smtp:`) means "the usual
 *   routing" and is skipped. Port null = the global delivery port.
 * - Keys: a domain (exact), `.domain` (any subdomain), `*` (everything else);
 *   lookup order: exact, then the nearest `.parent`, then `*` — as Postfix
 *   does with `parent_domain_matches_subdomains` off for transport_maps.
 * - File syntax: `key value` per line, `#` comments, blank lines; a line
 *   starting with whitespace continues the previous one. Config map entries
 *   override file entries with the same key.
 * - Malformed input throws `TransportMapError` (code `CONFIG`) naming the line:
 *   bad configuration is an exception, found at start-up.
 */
import { isIP } from 'node:net';

export interface TransportRoute {
  /** Host name (lower case) or IP literal (without brackets). */
  host: string;
  /** Null: use the global `delivery.port`. */
  port: number | null;
  /** `[host]`: no MX lookup (RFC 7672 §2.2.2 treats it as a secure MX name, C9). */
  bracketed: boolean;
}

export interface TransportTable {
  entries: ReadonlyMap<string, TransportRoute>;
}

export class TransportMapError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(`transport map: ${message}`);
    this.name = 'TransportMapError';
  }
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function parsePort(text: string | undefined, value: string): number | null {
  if (text === undefined || text === '') return null;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new TransportMapError(`bad port in "${value}"`);
  }
  return Number(text);
}

function checkHost(host: string, bracketed: boolean, value: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (isIP(h) !== 0) {
    if (!bracketed) throw new TransportMapError(`an IP address next hop must be bracketed: "${value}"`);
    return h;
  }
  if (!HOSTNAME.test(h)) throw new TransportMapError(`bad host name in "${value}"`);
  return h;
}

/** Parses one right-hand side; null for an empty next hop (`smtp:`). */
export function parseTransportValue(value: string): TransportRoute | null {
  let v = value.trim();
  const transport = /^([a-z][a-z0-9-]*):(?![0-9])(.*)$/i.exec(v);
  if (transport && !v.startsWith('[')) {
    if ((transport[1] ?? '').toLowerCase() !== 'smtp') throw new TransportMapError(`unsupported transport in "${value}" (only smtp:)`);
    v = (transport[2] ?? '').trim();
  }
  if (v === '') return null;
  const br = /^\[(?:ipv6:)?([^\]]+)\](?::(.*))?$/i.exec(v);
  if (br) return { host: checkHost(br[1] ?? '', true, value), port: parsePort(br[2], value), bracketed: true };
  if (v.includes('[') || v.includes(']')) throw new TransportMapError(`bad next hop "${value}"`);
  const parts = v.split(':');
  if (parts.length > 2) throw new TransportMapError(`bad next hop "${value}" (IPv6 literals need brackets)`);
  return { host: checkHost(parts[0] ?? '', false, value), port: parsePort(parts[1], value), bracketed: false };
}

function normKey(key: string): string {
  const k = key.trim().toLowerCase().replace(/\.$/, '');
  if (k === '*') return k;
  const bare = k.startsWith('.') ? k.slice(1) : k;
  if (!HOSTNAME.test(bare)) throw new TransportMapError(`bad domain key "${key}"`);
  return k;
}

/** `key value` pairs of a transport file, continuation lines joined. */
export function parseTransportFile(text: string): Array<{ key: string; value: string; line: number }> {
  const out: Array<{ key: string; value: string; line: number }> = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '');
    if (line.trim() === '') return;
    const last = out[out.length - 1];
    if (/^\s/.test(line)) {
      if (!last) throw new TransportMapError(`line ${i + 1}: continuation line without an entry`);
      last.value = `${last.value} ${line.trim()}`.trim();
      return;
    }
    const m = /^(\S+)\s*(.*)$/.exec(line.trim());
    out.push({ key: m?.[1] ?? '', value: (m?.[2] ?? '').trim(), line: i + 1 });
  });
  return out;
}

/** Builds the table from the config map and the optional file text (config wins). */
export function buildTransportTable(entries: Readonly<Record<string, string>>, fileText?: string): TransportTable {
  const table = new Map<string, TransportRoute>();
  for (const e of parseTransportFile(fileText ?? '')) {
    try {
      if (e.value === '') throw new TransportMapError(`no next hop for "${e.key}"`);
      const route = parseTransportValue(e.value);
      if (route) table.set(normKey(e.key), route);
    } catch (err) {
      throw err instanceof TransportMapError ? new TransportMapError(`line ${e.line}: ${err.message.replace(/^transport map: /, '')}`) : err;
    }
  }
  for (const [key, value] of Object.entries(entries)) {
    const route = parseTransportValue(value);
    if (route) table.set(normKey(key), route);
  }
  return { entries: table };
}

/** The route for a recipient domain, or undefined for normal MX routing. */
export function lookupTransport(table: TransportTable, domain: string): TransportRoute | undefined {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const exact = table.entries.get(d);
  if (exact) return exact;
  const labels = d.split('.');
  for (let i = 1; i < labels.length; i++) {
    const hit = table.entries.get('.' + labels.slice(i).join('.'));
    if (hit) return hit;
  }
  return table.entries.get('*');
}
