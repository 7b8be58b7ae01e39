/**
 * Which resolvers to ask: /etc/resolv.conf (as glibc reads it) or addresses
 * from the configuration.
 *
 * Contract:
 * - `readResolvConf` takes `nameserver` lines (IPv4 or IPv6, at most 3 as glibc
 *   does) and `options timeout:N attempts:N` (glibc caps: 30 s, 5); `search` and
 *   `domain` are ignored on purpose — lookups never use a search list (C7).
 *   Without nameserver lines the server is 127.0.0.1:53 (glibc's default); without
 *   options the relay's defaults apply (2000 ms per attempt, 2 rounds).
 * - `parseServerAddress` accepts '127.0.0.1', '127.0.0.1:5353', '::1', '[::1]:53';
 *   anything else (host names, bad ports) throws a `DnsConfigError`: bad
 *   configuration is a start-up error, not a lookup result.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { DnsServer } from './transport.ts';

export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_ATTEMPTS = 2;
const GLIBC_MAXNS = 3;
const GLIBC_MAX_TIMEOUT_S = 30;
const GLIBC_MAX_ATTEMPTS = 5;

export interface ResolvConf { servers: DnsServer[]; timeoutMs: number; attempts: number }

export class DnsConfigError extends Error {
  readonly code = 'DNS_CONFIG';
}

export function parseServerAddress(s: string): DnsServer {
  const t = s.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  let host: string;
  let port = 53;
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if ((t.match(/:/g) ?? []).length === 1) {
    const [h, p] = t.split(':');
    host = h!;
    port = /^\d+$/.test(p!) ? Number(p) : NaN;
  } else {
    host = t;
  }
  host = host.replace(/%.*$/, ''); // drop an IPv6 zone id: loopback/global resolvers need none
  if (net.isIP(host) === 0) throw new DnsConfigError(`DNS server "${s}" is not an IP address (host names cannot be resolved without a resolver)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DnsConfigError(`DNS server "${s}" has a bad port`);
  return { host, port };
}

function readOption(opt: string, conf: ResolvConf): void {
  const m = /^(timeout|attempts):(\d+)$/.exec(opt);
  if (!m) return;
  const n = Number(m[2]);
  if (m[1] === 'timeout') conf.timeoutMs = Math.min(Math.max(n, 1), GLIBC_MAX_TIMEOUT_S) * 1000;
  else conf.attempts = Math.min(Math.max(n, 1), GLIBC_MAX_ATTEMPTS);
}

export function readResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { servers: [], timeoutMs: DEFAULT_TIMEOUT_MS, attempts: DEFAULT_ATTEMPTS };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0] !== undefined && conf.servers.length < GLIBC_MAXNS) {
      try { conf.servers.push(parseServerAddress(rest[0])); } catch { /* glibc skips bad lines too */ }
    } else if (key === 'options') {
      for (const opt of rest) readOption(opt, conf);
    }
  }
  if (conf.servers.length === 0) conf.servers.push({ host: '127.0.0.1', port: 53 });
  return conf;
}

/** Reads and parses /etc/resolv.conf (or `path`); a missing file gives glibc's defaults. */
export async function readSystemResolvConf(path = '/etc/resolv.conf'): Promise<ResolvConf> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return readResolvConf(text);
}
