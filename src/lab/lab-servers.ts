/**
 * Allocating the lab's loopback addresses and starting every scenario's MX
 * servers and attacker proxies on one shared port.
 *
 * Contract: addresses are 127.0.0.2, 127.0.0.3, … in scenario order (servers,
 * then the attacker), at most 253 in all (more is a bug: throws). The shared
 * port is probed by the runner (shared-port.ts); if a real bind still fails
 * here, everything started is closed and the error rethrown, so the runner can
 * pick a new port and rebuild (TLSA owner names carry the port).
 * `closeAll` stops everything that was started.
 */
import type { IssuedCert } from './certs.ts';
import type { AttackerProxy } from './attacker-proxy.ts';
import { startAttackerProxy } from './attacker-proxy.ts';
import { impostorChain } from './lab-pki.ts';
import { interceptsTls } from './attacker-proxy.ts';
import type { LabPki } from './lab-pki.ts';
import type { MxServer } from './mx-server.ts';
import { startMxServer } from './mx-server.ts';
import { ATTACKER_LABEL } from './scenario-context.ts';
import type { Scenario, ScenarioBuild } from './scenario-types.ts';
import { labAddress } from './shared-port.ts';

/** Per scenario: label → loopback address. */
export type AddressPlan = Map<string, Map<string, string>>;

export function planAddresses(scenarios: Scenario[]): AddressPlan {
  const plan: AddressPlan = new Map();
  let next = 2;
  for (const s of scenarios) {
    const labels = [...s.servers.map((d) => d.label), ...(s.attacker ? [ATTACKER_LABEL] : [])];
    plan.set(s.name, new Map(labels.map((l) => [l, labAddress(next++)])));
  }
  return plan;
}

export function allAddresses(plan: AddressPlan): string[] {
  return [...plan.values()].flatMap((m) => [...m.values()]);
}

export interface RunningServers {
  /** key `<scenario>/<label>` */
  mx: Map<string, MxServer>;
  /** key: scenario name */
  proxies: Map<string, AttackerProxy>;
  closeAll(): Promise<void>;
}

export interface ServerStartInput {
  scenario: Scenario;
  build: ScenarioBuild;
  addresses: Map<string, string>;
  /** Host name the attacker impersonates, when there is one. */
  impostorName?: string;
}

async function startScenario(input: ServerStartInput, port: number, pki: LabPki, out: RunningServers): Promise<void> {
  const { scenario: s, build, addresses } = input;
  for (const decl of s.servers) {
    const host = addresses.get(decl.label);
    if (host === undefined) throw new Error(`${s.name}: no address for ${decl.label}`);
    const chain: IssuedCert[] | undefined = build.chains[decl.label];
    const mx = await startMxServer({ host, port, mode: decl.mode, chain, label: decl.label, name: `${decl.label}.${s.name}.lab.test` });
    out.mx.set(`${s.name}/${decl.label}`, mx);
  }
  if (s.attacker) {
    const host = addresses.get(ATTACKER_LABEL);
    const upstream = addresses.get(s.attacker.target);
    if (host === undefined || upstream === undefined) throw new Error(`${s.name}: attacker addresses missing`);
    const impostor = interceptsTls(s.attacker.mode) ? await impostorChain(pki, input.impostorName ?? s.attacker.target) : undefined;
    const proxy = await startAttackerProxy({ host, port, mode: s.attacker.mode, upstream: { host: upstream, port }, impostor, label: ATTACKER_LABEL });
    out.proxies.set(s.name, proxy);
  }
}

function emptyServers(): RunningServers {
  const out: RunningServers = {
    mx: new Map(), proxies: new Map(),
    closeAll: async () => {
      await Promise.all([...out.mx.values()].map((m) => m.close()));
      await Promise.all([...out.proxies.values()].map((p) => p.close()));
    },
  };
  return out;
}

/** Starts every server on `port`; on any failure closes what started and rethrows (the runner re-plans on EADDRINUSE). */
export async function startLabServers(inputs: ServerStartInput[], pki: LabPki, port: number): Promise<RunningServers> {
  const out = emptyServers();
  try {
    for (const input of inputs) await startScenario(input, port, pki, out);
    return out;
  } catch (err) {
    await out.closeAll();
    throw err;
  }
}
