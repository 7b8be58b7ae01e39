/**
 * Figures and printing for the benchmark: per-run measurements, the
 * per-MTA summary (median with min–max over runs), dane-relay/Postfix ratios,
 * and a readable table.
 *
 * Contract: pure functions over plain data (no I/O except `printTable`,
 * which writes to the stream it is given). Percentiles are nearest-rank on
 * the sorted sample; an empty sample gives NaN, printed as `-`.
 */

export type MtaName = 'dane-relay' | 'postfix';
export type ClientName = 'own' | 'smtp-source';

/** What a figure was measured with: the client, and whether its connections carry many messages. */
export const workloadName = (client: ClientName, reuse: boolean, sessions: number, rate = 0): string =>
  client === 'own'
    ? `own load generator, ${sessions} sessions, pipelined, ${reuse ? 'many messages per connection' : 'one message per connection'}${rate > 0 ? `, paced at ${rate} msg/s offered` : ''}`
    : `smtp-source -s ${sessions}${reuse ? ' -d (many messages per connection)' : ' (one message per connection)'}`;

export interface RunFigures {
  mta: MtaName;
  client: ClientName;
  reuse: boolean;
  run: number;
  messages: number;
  size: number;
  sessions: number;
  domains: number;
  accepted: number;
  delivered: number;
  rejected: number;
  timedOut: boolean;
  /** accepted / (last 250 − first connect), messages per second */
  acceptedPerSec: number;
  /** delivered / (last arrival − first connect) */
  deliveredPerSec: number;
  /** user+sys of the MTA process(es) during the run */
  cpuSeconds: number;
  cpuSecondsPer1000: number;
  /** connect → 220 (own client only; NaN for smtp-source) */
  greetingP50Ms: number;
  greetingP99Ms: number;
  /** final dot written → 250 read (own client only) */
  acceptP50Ms: number;
  acceptP99Ms: number;
  /** (last 250 − first connect) × sessions / accepted: what one message costs a session, connection included */
  timePerMessageMs: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
  /** TLS handshakes the sink completed, per delivered message */
  tlsHandshakesPerMsg: number;
  tlsResumed: number;
  dnsQueriesPerMsg: number;
  peakRssBytes: number;
  /** messages the sink received outside TLS, warm-up included (must be 0) */
  plaintextArrivals: number;
  /** messages driven before the measured load (not in the figures) */
  warmup?: number;
  /** relay log: TLS sessions by state, e.g. { Verified: 20 }; Postfix: from its log */
  tlsSessionsByState: Record<string, number>;
  /** share of the machine's CPU time the hypervisor gave to other guests during the measured load (0.1 = 10 %; NaN: not reported) */
  stolenCpuShare: number;
  /** the harness's own CPU during the run (sink process; bench process = load generator + resolver), to spot a saturated harness */
  harnessCpuSeconds: { sink: number; bench: number };
  errors: string[];
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface MtaSummary {
  mta: MtaName;
  client: ClientName;
  reuse: boolean;
  workload: string;
  runs: number;
  acceptedPerSec: Spread;
  deliveredPerSec: Spread;
  cpuSecondsPer1000: Spread;
  greetingP50Ms: number;
  greetingP99Ms: number;
  acceptP50Ms: number;
  acceptP99Ms: number;
  timePerMessageMs: Spread;
  e2eP50Ms: number;
  e2eP99Ms: number;
  tlsHandshakesPerMsg: number;
  dnsQueriesPerMsg: number;
  peakRssBytes: number;
  /** percent of the machine's CPU time stolen by the host, over the runs */
  stolenCpuPercent: Spread;
  allDelivered: boolean;
  allVerified: boolean;
}

export interface Ratios {
  /** dane-relay / Postfix, median delivered messages/s (goal ≥ 1.5) */
  deliveredPerSec: number;
  acceptedPerSec: number;
  /** dane-relay / Postfix, median CPU seconds per message (goal ≤ 0.5) */
  cpuPerMessage: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

export function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Verified: every message arrived in TLS and every TLS session the MTA logged was `Verified`. */
export function runVerified(r: RunFigures): boolean {
  const states = Object.entries(r.tlsSessionsByState);
  const verified = r.tlsSessionsByState.Verified ?? 0;
  return r.plaintextArrivals === 0 && verified > 0 && states.every(([k, n]) => k === 'Verified' || n === 0);
}

export function summarise(mta: MtaName, runs: RunFigures[]): MtaSummary {
  const pick = (f: (r: RunFigures) => number): number[] => runs.map(f);
  const first = runs[0];
  const client = first?.client ?? 'own';
  const reuse = first?.reuse ?? true;
  return {
    mta,
    client,
    reuse,
    workload: workloadName(client, reuse, first?.sessions ?? 0),
    runs: runs.length,
    acceptedPerSec: spread(pick((r) => r.acceptedPerSec)),
    deliveredPerSec: spread(pick((r) => r.deliveredPerSec)),
    cpuSecondsPer1000: spread(pick((r) => r.cpuSecondsPer1000)),
    greetingP50Ms: median(pick((r) => r.greetingP50Ms)),
    greetingP99Ms: median(pick((r) => r.greetingP99Ms)),
    acceptP50Ms: median(pick((r) => r.acceptP50Ms)),
    acceptP99Ms: median(pick((r) => r.acceptP99Ms)),
    timePerMessageMs: spread(pick((r) => r.timePerMessageMs)),
    e2eP50Ms: median(pick((r) => r.e2eP50Ms)),
    e2eP99Ms: median(pick((r) => r.e2eP99Ms)),
    tlsHandshakesPerMsg: median(pick((r) => r.tlsHandshakesPerMsg)),
    dnsQueriesPerMsg: median(pick((r) => r.dnsQueriesPerMsg)),
    peakRssBytes: Math.max(...pick((r) => r.peakRssBytes)),
    stolenCpuPercent: spread(pick((r) => r.stolenCpuShare * 100)),
    allDelivered: runs.every((r) => r.delivered === r.messages && !r.timedOut),
    allVerified: runs.every(runVerified),
  };
}

export function ratios(relay: MtaSummary, postfix: MtaSummary): Ratios {
  return {
    deliveredPerSec: relay.deliveredPerSec.median / postfix.deliveredPerSec.median,
    acceptedPerSec: relay.acceptedPerSec.median / postfix.acceptedPerSec.median,
    cpuPerMessage: relay.cpuSecondsPer1000.median / postfix.cpuSecondsPer1000.median,
  };
}

const fmt = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const fmtSpread = (s: Spread, digits = 1): string => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
const mib = (b: number): string => (Number.isFinite(b) ? `${(b / 1048576).toFixed(1)} MiB` : '-');

/** Rows: [label, value per summary..., ratio?]. */
export function tableRows(summaries: MtaSummary[], r?: Ratios): string[][] {
  const rows: string[][] = [['', ...summaries.map((s) => `${s.mta} (${s.runs} runs)`), ...(r ? ['ratio relay/postfix'] : [])]];
  const add = (label: string, f: (s: MtaSummary) => string, ratio?: number): void => {
    rows.push([label, ...summaries.map(f), ...(r ? [ratio === undefined ? '' : fmt(ratio, 2)] : [])]);
  };
  add('accepted msg/s, median (min–max)', (s) => fmtSpread(s.acceptedPerSec), r?.acceptedPerSec);
  add('delivered msg/s, median (min–max)', (s) => fmtSpread(s.deliveredPerSec), r?.deliveredPerSec);
  add('CPU s per 1000 msg, median (min–max)', (s) => fmtSpread(s.cpuSecondsPer1000, 2), r?.cpuPerMessage);
  add('greeting latency p50 / p99 ms (own client)', (s) => `${fmt(s.greetingP50Ms, 2)} / ${fmt(s.greetingP99Ms, 2)}`);
  add('accept latency p50 / p99 ms (own client)', (s) => `${fmt(s.acceptP50Ms, 2)} / ${fmt(s.acceptP99Ms, 2)}`);
  add('time per message per session ms, median (min–max)', (s) => fmtSpread(s.timePerMessageMs, 2));
  add('end-to-end latency p50 / p99 ms', (s) => `${fmt(s.e2eP50Ms)} / ${fmt(s.e2eP99Ms)}`);
  add('TLS handshakes per message', (s) => fmt(s.tlsHandshakesPerMsg, 4));
  add('DNS queries per message', (s) => fmt(s.dnsQueriesPerMsg, 4));
  add('peak RSS (Postfix: summed PSS, sampled)', (s) => mib(s.peakRssBytes));
  add('CPU stolen by the host (VM steal) %, median (min–max)', (s) => fmtSpread(s.stolenCpuPercent));
  add('all delivered / all verified TLS', (s) => `${s.allDelivered ? 'yes' : 'NO'} / ${s.allVerified ? 'yes' : 'NO'}`);
  return rows;
}

export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row) => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

export function formatRun(r: RunFigures): string {
  return (
    `${r.mta} [${r.client}${r.reuse ? ' reuse' : ''}] run ${r.run}: ${r.delivered}/${r.messages} delivered, ${fmt(r.acceptedPerSec)} acc/s, ${fmt(r.deliveredPerSec)} del/s, ` +
    `${fmt(r.cpuSecondsPer1000, 2)} CPU s/1000, greeting p50/p99 ${fmt(r.greetingP50Ms, 2)}/${fmt(r.greetingP99Ms, 2)} ms, ` +
    `accept p50/p99 ${fmt(r.acceptP50Ms, 2)}/${fmt(r.acceptP99Ms, 2)} ms, ${fmt(r.timePerMessageMs, 2)} ms/msg/session, e2e p50 ${fmt(r.e2eP50Ms)} ms, ` +
    `TLS/msg ${fmt(r.tlsHandshakesPerMsg, 3)}, DNS/msg ${fmt(r.dnsQueriesPerMsg, 3)}, RSS ${mib(r.peakRssBytes)}, ` +
    `harness CPU s sink ${fmt(r.harnessCpuSeconds.sink, 2)} bench ${fmt(r.harnessCpuSeconds.bench, 2)}, steal ${fmt(r.stolenCpuShare * 100)} %` +
    `${r.timedOut ? ' TIMED OUT' : ''}${r.errors.length ? ` errors: ${r.errors.slice(0, 3).join('; ')}` : ''}`
  );
}
