/**
 * Ask one question of the configured servers, with bounded retries.
 *
 * Contract:
 * - `attempts` rounds over the servers in order; each exchange is bounded by
 *   `timeoutMs` per transport, so the whole question is bounded by
 *   attempts × servers × 2 × timeoutMs;
 * - NOERROR and NXDOMAIN are answers and end the search;
 * - SERVFAIL (how a validating resolver reports bogus data, C1), REFUSED or any
 *   other rcode: the next server is tried (as libc does); that server is not
 *   asked again in later rounds;
 * - timeout, malformed packet, network error: a failed attempt; next server;
 * - when nothing answered, a `failure` whose detail names every server and why.
 */
import type { DnsFailureReason } from '../core/dns-result.ts';
import { exchange, fmt, type DnsServer, type ExchangeOutcome } from './transport.ts';
import type { DnsResponse, Question } from './wire.ts';

export interface QueryContext {
  servers: ReadonlyArray<DnsServer & { trusted: boolean }>;
  timeoutMs: number;
  attempts: number;
  signal: AbortSignal;
  onSend: () => void;
}

export type QueryOutcome =
  | { kind: 'answer'; response: DnsResponse; server: DnsServer; trusted: boolean }
  | { kind: 'failure'; reason: DnsFailureReason; detail: string };

/** Most telling first: a server's SERVFAIL says more than another's silence. */
const PRIORITY: DnsFailureReason[] = ['servfail', 'refused', 'other-rcode', 'malformed', 'timeout', 'network'];

function failureOf(o: ExchangeOutcome): { reason: DnsFailureReason; detail: string; final: boolean } | undefined {
  if (o.kind !== 'response') return { reason: o.kind, detail: o.detail, final: false };
  const rcode = o.response.rcode;
  if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') return undefined;
  const reason: DnsFailureReason = rcode === 'SERVFAIL' ? 'servfail' : rcode === 'REFUSED' ? 'refused' : 'other-rcode';
  return { reason, detail: `answered ${rcode} over ${o.transport}`, final: true };
}

export async function queryServers(ctx: QueryContext, q: Question): Promise<QueryOutcome> {
  const failures: Array<{ reason: DnsFailureReason; detail: string }> = [];
  const finished = new Set<number>();
  for (let round = 0; round < Math.max(1, ctx.attempts); round++) {
    for (const [i, server] of ctx.servers.entries()) {
      if (finished.has(i)) continue;
      if (ctx.signal.aborted) return { kind: 'failure', reason: 'network', detail: 'DNS client closed' };
      const o = await exchange(server, q, { timeoutMs: ctx.timeoutMs, signal: ctx.signal, onSend: ctx.onSend });
      const f = failureOf(o);
      if (f === undefined && o.kind === 'response') {
        return { kind: 'answer', response: o.response, server, trusted: server.trusted };
      }
      if (f === undefined) continue;
      if (f.final) finished.add(i);
      failures.push({ reason: f.reason, detail: f.final ? `${fmt(server)} ${f.detail}` : f.detail });
    }
  }
  const reason = PRIORITY.find((p) => failures.some((f) => f.reason === p)) ?? 'network';
  const detail = `${q.name} ${q.type}: ` + (failures.map((f) => f.detail).join('; ') || 'no servers');
  return { kind: 'failure', reason, detail };
}
