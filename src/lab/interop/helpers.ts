/**
 * Small helpers for tier-2 tests and benchmarks: the dane-relay configuration
 * the lab runs it with, bounded waiting, reading the relay's JSON-lines log.
 *
 * Contract: every wait is bounded in time (and therefore in count); none
 * throws except `waitForListener`, which rejects with a message naming what
 * did not come up. The relay configuration is the production one apart from
 * addresses and paths: DNS from the lab Unbound at 127.0.0.1:53 (trusted,
 * loopback, C6), DNSSEC probe refusing to start on failure, delivery to port 25.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { LAB_RESOLVER, type NetnsLab } from './netns-lab.ts';

export interface RelayLabConfig {
  listen: { host: string; port: number };
  spool: string;
  logFile: string;
  /** Default `dane`. */
  securityLevel?: string;
  /** Default 25. */
  deliveryPort?: number;
  /** PKIX trust store for `verify`/`secure` levels (none by default). */
  caFile?: string;
}

/** The YAML dane-relay is started with in the lab. */
export function relayConfigYaml(c: RelayLabConfig): string {
  const config = {
    myhostname: 'relay.lab.test',
    listen: [`${c.listen.host}:${c.listen.port}`],
    spool: c.spool,
    mynetworks: ['127.0.0.0/8'],
    dns: {
      resolvers: [`${LAB_RESOLVER.host}:${LAB_RESOLVER.port}`],
      trusted_resolvers: ['127.0.0.0/8', '::1/128'],
      dnssec_probe: { on_failure: 'refuse' },
    },
    tls: { security_level: c.securityLevel ?? 'dane', ...(c.caFile ? { ca_file: c.caFile } : {}) },
    delivery: { port: c.deliveryPort ?? 25, inet_protocols: 'ipv4', connect_timeout: '5s', command_timeout: '15s' },
    // Deferred mail must not be retried while a test reads outcomes.
    queue: { min_backoff: '300s', max_backoff: '600s', scan_interval: '60s' },
    log: { level: 'info', file: c.logFile },
  };
  return stringify(config);
}

/** Polls `check` every 200 ms until it returns true or `ms` elapse; returns the last answer. */
export async function waitUntil(ms: number, check: () => Promise<boolean> | boolean): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(200);
  }
}

/** Waits until a TCP listener is bound at host:port inside the namespace; rejects after `ms` or when `gaveUp()` says so. */
export async function waitForListener(lab: NetnsLab, host: string, port: number, ms: number, gaveUp: () => boolean = () => false): Promise<void> {
  let stopped = false;
  const ok = await waitUntil(ms, async () => {
    if (gaveUp()) { stopped = true; return true; }
    const r = await lab.run('ss', ['-Hltn', `src ${host}:${port}`], { timeoutMs: 5000 });
    return r.code === 0 && r.stdout.trim() !== '';
  });
  if (stopped) throw new Error(`process meant to listen on ${host}:${port} exited`);
  if (!ok) throw new Error(`nothing listening on ${host}:${port} inside ${lab.ns} after ${ms} ms`);
}

/** Parses a JSON-lines file; missing file → []; unparsable lines are skipped. */
export async function readJsonLines(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try { out.push(JSON.parse(line) as Record<string, unknown>); } catch { /* partial line being written */ }
  }
  return out;
}
