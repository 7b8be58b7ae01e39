/**
 * The report accumulator: feed it log lines one at a time, read the summary
 * at the end. Counters only, so memory stays flat however long the log is.
 *
 * Contract:
 * - `addLine` never throws. It reads the relay's JSON lines and
 *   Postfix-format maillog lines (any Postfix's, or the relay's own
 *   `log.maillog`; postfix-maillog.ts), mixed freely. Lines that are
 *   neither, or that the report does not need, count as `skipped`; lines
 *   outside the --since/--until/--domain filter as `filteredOut` (with a time
 *   filter, an event without a time is filtered out).
 * - Deliveries by TLS state count recipients `sent`, by the state of the
 *   session they went over (`none` without TLS): the same rule for the
 *   per-domain columns and the chart. TLS sessions are counted separately,
 *   from the TLS events (a reused session carries many deliveries; a failed
 *   attempt is a session without a delivery).
 * - Recipients by status count delivery events (a recipient deferred twice
 *   then sent counts once in each). Messages by status count distinct queue
 *   ids, tracked in a FIFO window of `maxTrackedQids`; when the window
 *   overflowed, `messages.approximate` is true.
 * - Per-domain tables hold at most `maxDomains` domains; later domains are
 *   folded into `(other)` and `domains.approximate` is set.
 * - Each refusal cause keeps at most `maxExamples` examples (the first seen).
 * Vocabulary and DSN meaning: DESIGN.md; refusal causes: cause.ts (C30 audit trail).
 */
import { CAUSE_LABELS, classifyCause } from './cause.ts';
import type { RefusalCause } from '../../core/refusal-cause.ts';
import { PostfixMaillogReader } from './postfix-maillog.ts';
import { parseLine, STATUSES, TLS_STATES, type LogEvent, type Status, type LoggedTlsState } from './event.ts';
import { TimeSeries, type Series } from './timeseries.ts';

export interface ReportFilter { since?: number; until?: number; domain?: string }
export interface ReportLimits { maxDomains: number; maxExamples: number; maxTrackedQids: number; topDomains: number }
export const DEFAULT_LIMITS: ReportLimits = { maxDomains: 10_000, maxExamples: 3, maxTrackedQids: 200_000, topDomains: 10 };

export interface RefusalExample { time: string | null; domain: string | null; mx: string | null; dsn: string | null; text: string }
export interface RefusalRow { cause: RefusalCause; label: string; hostsSkipped: number; deferred: number; bounced: number; examples: RefusalExample[] }
export interface DomainRow { domain: string; total: number; status: Record<Status, number>; tls: Record<LoggedTlsState, number> }

export interface ReportData {
  lines: number; events: number; skipped: number; filteredOut: number;
  range: { first: string | null; last: string | null };
  messages: { accepted: number; bytes: number; recipients: number; byStatus: Record<Status, number>; approximate: boolean };
  recipients: Record<Status, number>;
  /** `deliveries`: recipients sent, by TLS state; `sessions`: TLS sessions established (no `none`). */
  tls: { deliveries: Record<LoggedTlsState, number>; sessions: Record<LoggedTlsState, number>; dane: Record<string, number> };
  domains: { distinct: number; approximate: boolean; top: DomainRow[] };
  refusals: RefusalRow[];
  series: Series;
}

const zeroStatus = (): Record<Status, number> => Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
const zeroTls = (): Record<LoggedTlsState, number> => Object.fromEntries(TLS_STATES.map((s) => [s, 0])) as Record<LoggedTlsState, number>;
const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

export class ReportAccumulator {
  private lines = 0; private events = 0; private skipped = 0; private filteredOut = 0;
  private first: number | undefined; private last: number | undefined;
  private accepted = 0; private bytes = 0; private acceptedRcpts = 0;
  private readonly msgStatus = zeroStatus(); private msgApprox = false;
  private readonly qids = new Map<string, number>();
  private readonly recipients = zeroStatus();
  private readonly sessions = zeroTls();
  private readonly deliveries = zeroTls();
  private readonly maillog = new PostfixMaillogReader();
  private readonly dane: Record<string, number> = {};
  private readonly domains = new Map<string, DomainRow>(); private domainsApprox = false;
  private readonly refusals = new Map<RefusalCause, RefusalRow>();
  private readonly series = new TimeSeries();

  constructor(private readonly filter: ReportFilter = {}, private readonly limits: ReportLimits = DEFAULT_LIMITS) {}

  addLine(line: string): void {
    this.lines++;
    const events = line.trimStart().startsWith('{') ? [parseLine(line)].filter((e) => e !== undefined) : this.maillog.read(line);
    if (events.length === 0) { this.skipped++; return; }
    for (const ev of events) this.addParsed(ev);
  }

  private addParsed(ev: LogEvent): void {
    if (!this.passes(ev)) { this.filteredOut++; return; }
    this.events++;
    if (ev.time !== undefined) {
      if (this.first === undefined || ev.time < this.first) this.first = ev.time;
      if (this.last === undefined || ev.time > this.last) this.last = ev.time;
    }
    this.addEvent(ev);
  }

  private passes(ev: LogEvent): boolean {
    const { since, until, domain } = this.filter;
    if (since !== undefined || until !== undefined) {
      if (ev.time === undefined) return false;
      if (since !== undefined && ev.time < since) return false;
      if (until !== undefined && ev.time >= until) return false;
    }
    return domain === undefined || ev.domain === domain.toLowerCase();
  }

  private addEvent(ev: LogEvent): void {
    switch (ev.kind) {
      case 'accepted':
        this.accepted++; this.bytes += ev.size; this.acceptedRcpts += ev.nrcpt;
        return;
      case 'tls':
        if (ev.state) this.sessions[ev.state]++;
        if (ev.daneResult) this.dane[ev.daneResult] = (this.dane[ev.daneResult] ?? 0) + 1;
        return;
      case 'delivery':
        this.addDelivery(ev);
        return;
      case 'host-skipped':
        this.refusal(ev.cause ?? classifyCause(ev.dsn, ev.text), ev).hostsSkipped++;
        return;
      case 'queue-outcome':
        if (ev.status === 'expired') {
          this.recipients.expired++;
          if (ev.qid) this.messageStatus(ev.qid, 'expired');
        }
        return;
    }
  }

  private addDelivery(ev: Extract<LogEvent, { kind: 'delivery' }>): void {
    if (!ev.status) return;
    this.recipients[ev.status]++;
    if (ev.qid) this.messageStatus(ev.qid, ev.status);
    const row = this.domainRow(ev.domain ?? '(none)');
    row.total++; row.status[ev.status]++;
    // TLS states are those of deliveries made: a deferral or bounce may never have reached a host.
    if (ev.status === 'sent') {
      this.deliveries[ev.state]++;
      row.tls[ev.state]++;
      if (ev.time !== undefined) this.series.add(ev.time, ev.state);
    }
    if (ev.status === 'deferred' || ev.status === 'bounced' || ev.status === 'expired') {
      const r = this.refusal(ev.cause ?? classifyCause(ev.dsn, ev.text), ev);
      if (ev.status === 'bounced') r.bounced++; else r.deferred++;
    }
  }

  private messageStatus(qid: string, status: Status): void {
    const bit = 1 << STATUSES.indexOf(status);
    const seen = this.qids.get(qid) ?? 0;
    if (seen & bit) return;
    this.msgStatus[status]++;
    if (!this.qids.has(qid) && this.qids.size >= this.limits.maxTrackedQids) {
      const oldest = this.qids.keys().next().value;
      if (oldest !== undefined) this.qids.delete(oldest);
      this.msgApprox = true;
    }
    this.qids.set(qid, seen | bit);
  }

  private domainRow(domain: string): DomainRow {
    let row = this.domains.get(domain);
    if (!row && this.domains.size >= this.limits.maxDomains) {
      this.domainsApprox = true;
      domain = '(other)';
      row = this.domains.get(domain);
    }
    if (!row) {
      row = { domain, total: 0, status: zeroStatus(), tls: zeroTls() };
      this.domains.set(domain, row);
    }
    return row;
  }

  private refusal(cause: RefusalCause, ev: { time: number | undefined; domain: string | undefined; mx: string | undefined; dsn: string | undefined; text: string }): RefusalRow {
    let row = this.refusals.get(cause);
    if (!row) {
      row = { cause, label: CAUSE_LABELS[cause], hostsSkipped: 0, deferred: 0, bounced: 0, examples: [] };
      this.refusals.set(cause, row);
    }
    if (row.examples.length < this.limits.maxExamples) {
      row.examples.push({ time: iso(ev.time), domain: ev.domain ?? null, mx: ev.mx ?? null, dsn: ev.dsn ?? null, text: ev.text.slice(0, 300) });
    }
    return row;
  }

  result(): ReportData {
    const total = (r: RefusalRow): number => r.hostsSkipped + r.deferred + r.bounced;
    return {
      lines: this.lines, events: this.events, skipped: this.skipped, filteredOut: this.filteredOut,
      range: { first: iso(this.first), last: iso(this.last) },
      messages: { accepted: this.accepted, bytes: this.bytes, recipients: this.acceptedRcpts, byStatus: { ...this.msgStatus }, approximate: this.msgApprox },
      recipients: { ...this.recipients },
      tls: { deliveries: { ...this.deliveries }, sessions: { ...this.sessions }, dane: { ...this.dane } },
      domains: {
        distinct: this.domains.size, approximate: this.domainsApprox,
        top: [...this.domains.values()].sort((a, b) => b.total - a.total || a.domain.localeCompare(b.domain)).slice(0, this.limits.topDomains),
      },
      refusals: [...this.refusals.values()].sort((a, b) => total(b) - total(a) || a.cause.localeCompare(b.cause)),
      series: this.series.snapshot(),
    };
  }
}
