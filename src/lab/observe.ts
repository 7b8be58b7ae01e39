/**
 * Gathers what the lab observed for one scenario: the relay's outcome event
 * for its recipient (status, DSN, TLS state — from the delivery event, else
 * from the TLS session event of the same queue id), what each of the
 * scenario's MX servers received for that recipient, and what its attacker
 * proxy recorded; the governing policy (`policy_type`, `tls.feature`) from
 * the outcome event or the last host event of the same queue id. Reads recorded state only; no I/O.
 */
import type { EventCollector, LogEvent } from './event-collector.ts';
import { str } from './event-collector.ts';
import type { Observation, ObservedDelivery, ObservedOutcome } from './judge.ts';
import type { RunningServers } from './lab-servers.ts';
import type { Scenario } from './scenario-types.ts';

function tlsStateOf(rcpt: string, outcome: LogEvent, events: EventCollector): string | undefined {
  const qid = str(outcome, 'qid');
  const forRcpt = events.events.filter((e) => e.event === 'delivery' && e.rcpt === rcpt);
  const fromDelivery = forRcpt.map((e) => str(e, 'tls.state')).find((v) => v !== undefined);
  if (fromDelivery !== undefined || qid === undefined) return fromDelivery;
  const sessions = events.events.filter((e) => e.event === 'tls' && str(e, 'qid') === qid);
  return str(sessions[sessions.length - 1], 'tls.state');
}

/** `policy_type` and `tls.feature` of the outcome, else of the last host event (tls, host-skipped) of its queue id. */
function policyOf(outcome: LogEvent, events: EventCollector): { policyType?: string; feature?: string } {
  const qid = str(outcome, 'qid');
  const hostEvents = events.events.filter((e) => (e.event === 'tls' || e.event === 'host-skipped') && qid !== undefined && str(e, 'qid') === qid);
  const last = hostEvents[hostEvents.length - 1];
  const policyType = str(outcome, 'policy_type') ?? str(last, 'policy_type');
  const feature = str(outcome, 'tls.feature') ?? str(last, 'tls.feature');
  return { ...(policyType !== undefined ? { policyType } : {}), ...(feature !== undefined ? { feature } : {}) };
}

function outcomeOf(rcpt: string, outcome: LogEvent | undefined, events: EventCollector): ObservedOutcome | undefined {
  if (!outcome) return undefined;
  return {
    status: str(outcome, 'status') ?? 'unknown',
    dsn: str(outcome, 'dsn') ?? '',
    ...policyOf(outcome, events),
    tlsState: tlsStateOf(rcpt, outcome, events),
    relay: str(outcome, 'relay'),
    detail: str(outcome, 'msg'),
  };
}

export function observeScenario(s: Scenario, rcpt: string, outcome: LogEvent | undefined, events: EventCollector, servers: RunningServers): Observation {
  const deliveries: ObservedDelivery[] = [];
  for (const decl of s.servers) {
    const mx = servers.mx.get(`${s.name}/${decl.label}`);
    for (const m of mx?.messages() ?? []) {
      if (!m.to.includes(rcpt)) continue;
      deliveries.push({ label: decl.label, address: mx?.host ?? '', secure: m.secure, sni: m.sni, certificate: m.certificate?.name ?? null, requireTls: m.requireTls });
    }
  }
  const proxy = servers.proxies.get(s.name);
  const qid = outcome ? str(outcome, 'qid') : undefined;
  const stats = proxy?.stats();
  return {
    outcome: outcomeOf(rcpt, outcome, events),
    deliveries,
    proxy: proxy && stats ? { connections: stats.connections, sawMessageInClear: proxy.sawMessageInClear(), startTlsCommands: stats.startTlsCommands, intercepted: stats.intercepted, injected: stats.injected } : undefined,
    injectionLogged: qid !== undefined && events.events.some((e) => e.event === 'starttls-injection' && str(e, 'qid') === qid),
  };
}
