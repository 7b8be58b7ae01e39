/**
 * Starts one dane-relay instance for the lab, configured like a production
 * relay except for where it looks: the lab resolver (trusted, on loopback,
 * C6), the lab's shared MX port, a PKIX store holding only the lab "public"
 * CA (so impostor certificates are PKIX-valid and only DANE stops them), a
 * temporary spool, and a long retry back-off (a deferral observed at the first
 * attempt is the outcome; no retries are waited for); the spool is rescanned
 * every 2 s so mail queued straight into it (TLSRPT reports) goes out.
 *
 * The relay logs through pino into an `EventCollector`; the deliverer and the
 * queue share that logger. Failures to start reject (bad configuration or a
 * listen error); `stop` stops the relay and its deliverer.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import pino from 'pino';
import { parseConfig } from '../config/load.ts';
import type { RelayConfig } from '../config/schema.ts';
import type { InsecureMxPolicy } from '../core/tls-level.ts';
import { createDeliverer } from '../outbound/create-deliverer.ts';
import type { Deliverer } from '../queue/deliverer.ts';
import { startRelay } from '../relay.ts';
import type { RelayHandle } from '../relay.ts';
import { EventCollector } from './event-collector.ts';
import { parseStsPolicy } from '../core/sts-policy.ts';
import { StsCacheStore } from '../sts/cache-store.ts';

export interface LabRelayInput {
  /** Lab temp directory; the spool goes to `<dir>/spool-<policy>`. */
  dir: string;
  caFile: string;
  resolverAddress: string;
  mxPort: number;
  insecureMxPolicy: InsecureMxPolicy;
  /** Per-domain `tls.policy` entries. */
  policies: Record<string, string>;
  /** Port of the lab's MTA-STS policy server (instead of 443). */
  stsPort?: number;
  /** MTA-STS policies cached "from an earlier contact": written to the spool's cache before the relay starts. */
  stsCache?: Array<{ domain: string; id: string; policy: string }>;
  /** Tee of every log line (e.g. for --keep or debugging). */
  onLogLine?: (line: string) => void;
  /** Inbound STARTTLS certificate and key files (REQUIRETLS submissions, RFC 8689). */
  inboundTls?: { cert: string; key: string };
  /** Replace the delivery engine (tests of the lab itself). */
  makeDeliverer?: (config: RelayConfig, deps: { logger: pino.Logger; stsPort?: number }) => Promise<Deliverer>;
}

export interface LabRelay {
  policy: InsecureMxPolicy;
  config: RelayConfig;
  handle: RelayHandle;
  events: EventCollector;
  address: { host: string; port: number };
  stop(): Promise<void>;
}

export function labRelayConfig(input: LabRelayInput, spool: string): RelayConfig {
  return parseConfig({
    myhostname: 'relay.lab.test',
    listen: ['127.0.0.1:0'],
    spool,
    mynetworks: ['127.0.0.0/8'],
    ...(input.inboundTls ? { inbound: { tls: input.inboundTls } } : {}),
    dns: { resolvers: [input.resolverAddress], timeout: '3s', attempts: 1 },
    tls: {
      security_level: 'dane',
      dane_insecure_mx_policy: input.insecureMxPolicy,
      policy: input.policies,
      ca_file: input.caFile,
    },
    delivery: { port: input.mxPort, connect_timeout: '5s', command_timeout: '15s' },
    // scan_interval: short, so a message put into the spool directly (a mailed TLSRPT report) is picked up soon;
    // deferred messages still wait for their 1 h back-off.
    queue: { min_backoff: '1h', max_backoff: '2h', concurrency: 64, scan_interval: '2s' },
    log: { level: 'info' },
  });
}

/** A cached policy as if fetched a minute ago (RFC 8461 §5.1: it stays in force until max_age ends). */
async function seedStsCache(spool: string, seeds: NonNullable<LabRelayInput['stsCache']>): Promise<void> {
  if (seeds.length === 0) return;
  const store = await StsCacheStore.open(spool);
  const now = Date.now() - 60_000;
  for (const s of seeds) {
    const parsed = parseStsPolicy(s.policy);
    if (parsed.kind !== 'policy') throw new Error(`lab: seeded MTA-STS policy for ${s.domain} does not parse: ${parsed.reason}`);
    await store.put({ domain: s.domain, id: s.id, policy: parsed.policy, fetchedAt: now, expiresAt: now + parsed.policy.maxAge * 1000 });
  }
}

export async function startLabRelay(input: LabRelayInput): Promise<LabRelay> {
  const spool = join(input.dir, `spool-${input.insecureMxPolicy}`);
  await mkdir(spool, { recursive: true });
  await seedStsCache(spool, input.stsCache ?? []);
  const config = labRelayConfig(input, spool);
  const events = new EventCollector(input.onLogLine);
  const logger = pino({ level: config.log.level, name: `lab-relay-${input.insecureMxPolicy}` }, events);
  const deliverer = await (input.makeDeliverer ?? createDeliverer)(config, { logger, ...(input.stsPort ? { stsPort: input.stsPort } : {}) });
  let handle: RelayHandle;
  try {
    handle = await startRelay(config, { deliverer, logger });
  } catch (err) {
    await deliverer.close().catch(() => undefined);
    throw err;
  }
  const address = handle.addresses[0];
  if (!address) {
    await handle.stop({ graceMs: 0 });
    throw new Error('lab relay: no listen address');
  }
  let stopped: Promise<void> | undefined;
  return {
    policy: input.insecureMxPolicy, config, handle, events, address,
    stop: () => {
      stopped ??= handle.stop({ graceMs: 500 }).finally(() => events.cancelWaiters());
      return stopped;
    },
  };
}
