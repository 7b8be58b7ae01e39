/**
 * The DANE lab: starts the lab resolver, every scenario's MX servers and
 * attacker proxies on 127.0.0.x and one shared port, and one relay per
 * insecure-MX policy the scenarios need; sends one message per scenario;
 * waits (bounded) for each recipient's first outcome; judges it.
 *
 * Contract:
 * - `startLab` either returns a fully running lab or rejects with everything
 *   already started stopped again; `close()` stops everything and removes the
 *   temp directory (idempotent).
 * - `run()` sends every scenario's message once and resolves with one result
 *   per scenario, in order; it may be called again (server records are reset,
 *   only new events count, the same recipients are reused); a scenario with no outcome by the deadline is a
 *   FAIL (`no outcome`), never a hang.
 * - The lab HTTPS server (sts-server.ts: MTA-STS policy sites, TLSRPT
 *   collector) listens on 127.0.0.1 at a free port; the relays fetch
 *   policies from that port. Scenarios may seed a relay's persisted MTA-STS
 *   cache (a policy from an "earlier contact") before it starts; a
 *   scenario's `followUp` runs after every outcome is in and adds its
 *   problems to the scenario's row.
 * - Loopback only; certificates are generated at start (lab-pki.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InsecureMxPolicy } from '../core/tls-level.ts';
import type { LabPki } from './lab-pki.ts';
import { createLabPki, pkixTrustPem } from './lab-pki.ts';
import type { LabResolver, LabZone } from './lab-resolver.ts';
import { startLabResolver } from './lab-resolver.ts';
import type { LabRelay, LabRelayInput } from './lab-relay.ts';
import { startLabRelay } from './lab-relay.ts';
import type { AddressPlan, RunningServers, ServerStartInput } from './lab-servers.ts';
import { allAddresses, planAddresses, startLabServers } from './lab-servers.ts';
import { observeScenario } from './observe.ts';
import type { ScenarioResult } from './judge.ts';
import { judge } from './judge.ts';
import { createScenarioContext } from './scenario-context.ts';
import type { Scenario, ScenarioBuild } from './scenario-types.ts';
import { LAB_PARENT, scenarioDomain } from './scenario-types.ts';
import { allScenarios } from './scenarios.ts';
import { findSharedPort } from './shared-port.ts';
import { submitMessage } from './submit.ts';
import { startStsServer, type StsServer } from './sts-server.ts';
import { createSelfSigned } from './certs.ts';

export interface LabOptions {
  scenarios?: Scenario[];
  /** Deadline for all outcomes of one run, ms (default 60 000). */
  timeoutMs?: number;
  onLogLine?: LabRelayInput['onLogLine'];
  makeDeliverer?: LabRelayInput['makeDeliverer'];
}

export interface Lab {
  dir: string;
  port: number;
  resolver: LabResolver;
  servers: RunningServers;
  relays: Map<InsecureMxPolicy, LabRelay>;
  sts: StsServer;
  scenarios: Scenario[];
  plan: AddressPlan;
  run(): Promise<ScenarioResult[]>;
  close(): Promise<void>;
}

/** The message each scenario sends: one recipient in its own domain. */
export function recipientOf(s: Scenario): string {
  return `postmaster@${scenarioDomain(s)}`;
}

const policyOf = (s: Scenario): InsecureMxPolicy => s.insecureMxPolicy ?? 'dane';

type StsCacheSeed = NonNullable<ScenarioBuild['stsCache']>;

interface Built { port: number; servers: RunningServers; zones: LabZone[]; policies: Record<string, string>; stsCache: StsCacheSeed }

/** The scenario's MTA-STS sites and TLSRPT collectors on the lab HTTPS server. */
function publish(sts: StsServer, build: ScenarioBuild): void {
  for (const [domain, site] of Object.entries(build.stsSites ?? {})) sts.setSite(domain, site);
  for (const [host, chain] of Object.entries(build.collectors ?? {})) sts.setCollector(host, chain);
}

/** Probe a port, build every scenario for it, start the servers; re-plan when a bind races (bounded). */
async function buildAndStart(scenarios: Scenario[], plan: AddressPlan, pki: LabPki, sts: StsServer): Promise<Built> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const addresses = allAddresses(plan);
    const port = await findSharedPort(addresses.length > 0 ? addresses : ['127.0.0.2']); // a lab may have no servers (nxdomain only)
    const zones: LabZone[] = [{ origin: LAB_PARENT, signed: true, records: [] }];
    const policies: Record<string, string> = {};
    const stsCache: StsCacheSeed = [];
    const inputs: ServerStartInput[] = [];
    for (const s of scenarios) {
      const addresses = plan.get(s.name) ?? new Map<string, string>();
      const ctx = createScenarioContext(s, port, pki, addresses, { host: sts.host, port: sts.port });
      const build = await s.build(ctx);
      zones.push(...build.zones);
      Object.assign(policies, build.tlsPolicy ?? {});
      publish(sts, build);
      stsCache.push(...(build.stsCache ?? []));
      inputs.push({ scenario: s, build, addresses, impostorName: s.attacker ? ctx.host(s.attacker.target) : undefined });
    }
    try {
      return { port, zones, policies, stsCache, servers: await startLabServers(inputs, pki, port) };
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error(`lab: could not bind the lab servers: ${String(lastErr)}`);
}

async function startRelays(scenarios: Scenario[], base: Omit<LabRelayInput, 'insecureMxPolicy'>, started: Map<InsecureMxPolicy, LabRelay>): Promise<void> {
  const policies = [...new Set(scenarios.map(policyOf))];
  for (const p of policies) started.set(p, await startLabRelay({ ...base, insecureMxPolicy: p }));
}

/** The scenario's follow-up (after every outcome is in): its problems join the row. */
async function followUp(lab: Lab, s: Scenario, r: ScenarioResult, deadline: number, caPem: string): Promise<ScenarioResult> {
  const relay = lab.relays.get(policyOf(s));
  if (!s.followUp || !relay) return r;
  let f;
  try {
    f = await s.followUp({ domain: scenarioDomain(s), relay, servers: lab.servers, scenarioName: s.name, sts: lab.sts, caPem, deadline });
  } catch (err) {
    f = { problems: [`follow-up failed: ${(err as Error).message}`], observed: 'follow-up failed' };
  }
  const problems = [...r.problems, ...f.problems];
  return { ...r, observed: `${r.observed}; ${f.observed}`, problems, pass: problems.length === 0 };
}

async function runOne(lab: Lab, s: Scenario, deadline: number, from: Map<InsecureMxPolicy, number>): Promise<ScenarioResult> {
  const relay = lab.relays.get(policyOf(s));
  if (!relay) throw new Error(`lab: no relay for ${s.name}`);
  const rcpt = recipientOf(s);
  const sub = await submitMessage({ ...relay.address, from: '', to: rcpt, subject: `DANE lab ${s.name}`, headers: [`X-Lab-Scenario: ${s.name}`], ...(s.submit?.requireTls ? { requireTls: true } : {}) });
  if (sub.kind === 'error') {
    return { ...judge(s, { deliveries: [], injectionLogged: false }), observed: `relay refused the message: ${sub.message}` };
  }
  const isOutcome = (e: Record<string, unknown>): boolean => e.event === 'delivery' && e.rcpt === rcpt && typeof e.status === 'string';
  const outcome = await relay.events.waitFor(isOutcome, Math.max(0, deadline - Date.now()), from.get(relay.policy) ?? 0);
  return judge(s, observeScenario(s, rcpt, outcome, relay.events, lab.servers));
}

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const scenarios = opts.scenarios ?? allScenarios();
  const plan = planAddresses(scenarios);
  const pki = await createLabPki();
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-lab-'));
  const relays = new Map<InsecureMxPolicy, LabRelay>();
  let built: Built | undefined;
  let resolver: LabResolver | undefined;
  let sts: StsServer | undefined;
  const closeAll = async (): Promise<void> => {
    await Promise.all([...relays.values()].map((r) => r.stop().catch(() => undefined)));
    await built?.servers.closeAll();
    await resolver?.close();
    await sts?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const caFile = join(dir, 'lab-public-ca.pem');
    await writeFile(caFile, pkixTrustPem(pki));
    sts = await startStsServer({ host: '127.0.0.1' });
    built = await buildAndStart(scenarios, plan, pki, sts);
    // The relay's inbound STARTTLS certificate: REQUIRETLS submissions need TLS (RFC 8689 §4).
    const relayCert = await createSelfSigned({ dnsNames: ['relay.lab.test'] });
    const inboundTls = { cert: join(dir, 'relay-cert.pem'), key: join(dir, 'relay-key.pem') };
    await writeFile(inboundTls.cert, relayCert.certPem);
    await writeFile(inboundTls.key, relayCert.keyPem, { mode: 0o600 });
    resolver = await startLabResolver({ zones: built.zones, validating: true });
    await startRelays(scenarios, {
      dir, caFile, resolverAddress: resolver.address, mxPort: built.port, policies: built.policies, stsPort: sts.port, stsCache: built.stsCache,
      inboundTls, onLogLine: opts.onLogLine, makeDeliverer: opts.makeDeliverer,
    }, relays);
  } catch (err) {
    await closeAll();
    throw err;
  }
  let closing: Promise<void> | undefined;
  const caPem = pkixTrustPem(pki);
  const lab: Lab = {
    dir, port: built.port, resolver, servers: built.servers, relays, sts, scenarios, plan,
    run: async () => {
      // a second run observes only what it caused: fresh server records, events from here on
      for (const m of built.servers.mx.values()) m.reset();
      for (const p of built.servers.proxies.values()) p.reset();
      const from = new Map([...relays].map(([p, r]) => [p, r.events.events.length]));
      const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
      const results = await Promise.all(scenarios.map((s) => runOne(lab, s, deadline, from)));
      return Promise.all(results.map((r, i) => followUp(lab, scenarios[i] as Scenario, r, deadline, caPem)));
    },
    close: () => { closing ??= closeAll(); return closing; },
  };
  return lab;
}

/** Start the lab, run every scenario once, stop everything. */
export async function runLab(opts: LabOptions = {}): Promise<ScenarioResult[]> {
  const lab = await startLab(opts);
  try {
    return await lab.run();
  } finally {
    await lab.close();
  }
}
