/**
 * Prometheus metrics for the relay, fed by the same typed events the log
 * carries (one source of truth: what is logged is what is counted).
 *
 * Contract: `createMetrics()` builds a private prom-client Registry (no
 * global default registry, so tests and reloads build their own).
 * `observe(event)` takes a log event object (`event: 'queued' | 'reject' |
 * 'tls' | 'delivery' | 'host-skipped' | 'queue-outcome'`, dotted keys or nested objects) and
 * moves the counters; unknown events are ignored. Gauges that describe state
 * (queue size, oldest message, DNS cache, open connections) are read from
 * probes at scrape time. Never throws on odd input.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isRefusalCause, type RefusalCause } from '../core/refusal-cause.ts';

export interface MetricsProbes {
  queue?: () => { messages: number; oldestAgeSeconds: number } | Promise<{ messages: number; oldestAgeSeconds: number }>;
  dns?: () => { cacheHits: number; cacheMisses: number; queriesSent: number; byType: Record<string, object> };
  connections?: () => { inbound: number; outbound: number };
}

export interface RelayMetrics {
  registry: Registry;
  observe(event: Record<string, unknown>): void;
  setProbes(probes: MetricsProbes): void;
}

/** Reads `a.b` from either a literal dotted key or nested objects. */
export function field(event: Record<string, unknown>, path: string): unknown {
  if (path in event) return event[path];
  let cur: unknown = event;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function str(v: unknown, fallback = 'none'): string {
  return typeof v === 'string' && v.length > 0 ? v : fallback;
}

/** The typed cause carried by a host-skipped or delivery event (core/refusal-cause.ts); never read from text. */
function causeOf(e: Record<string, unknown>): RefusalCause {
  const c = e['cause'];
  return isRefusalCause(c) ? c : 'other';
}

/** DANE states a verification can end in with usable TLSA: authenticated or not. */
const AUTHENTICATED = new Set(['Verified', 'Trusted']);
/** Host failures before any TLS session: the host attempt's DANE result is its TLSA lookup's. */
const PRE_TLS_CAUSES = new Set<RefusalCause>(['tlsa_lookup_failure', 'dane_required', 'starttls_missing']);


function build(registry: Registry, probes: () => MetricsProbes) {
  const r = [registry];
  // State gauges read their probe at scrape time (each collect() is awaited by prom-client).
  return {
    accepted: new Counter({ name: 'dane_relay_messages_accepted_total', help: 'Messages accepted (250 after fsync)', registers: r }),
    acceptedBytes: new Counter({ name: 'dane_relay_messages_accepted_bytes_total', help: 'Bytes of accepted messages', registers: r }),
    internalErrors: new Counter({ name: 'dane_relay_internal_errors_total', help: 'Exceptions and rejections caught by the last-resort handlers (each one is a bug)', labelNames: ['kind'], registers: r }),
    rejected: new Counter({ name: 'dane_relay_messages_rejected_total', help: 'Inbound rejections by reason', labelNames: ['reason'], registers: r }),
    recipients: new Counter({ name: 'dane_relay_recipients_total', help: 'Recipient delivery attempts by status', labelNames: ['status'], registers: r }),
    tlsSessions: new Counter({ name: 'dane_relay_tls_sessions_total', help: 'Outbound TLS sessions by state and policy level', labelNames: ['state', 'level'], registers: r }),
    refused: new Counter({ name: 'dane_relay_deliveries_refused_total', help: 'Recipient delivery attempts not delivered (deferred or bounced), by cause', labelNames: ['cause'], registers: r }),
    hostsSkipped: new Counter({ name: 'dane_relay_hosts_skipped_total', help: 'MX hosts or addresses not used for a delivery attempt, by cause', labelNames: ['cause'], registers: r }),
    sentByTls: new Counter({ name: 'dane_relay_deliveries_sent_total', help: 'Recipients delivered, by the TLS state and effective level of their session', labelNames: ['tls_state', 'tls_level'], registers: r }),
    daneResults: new Counter({ name: 'dane_relay_dane_results_total', help: 'DANE result per MX host attempt: ok, unusable, not_applicable, insecure_chain, tempfail, mismatch', labelNames: ['result'], registers: r }),
    deliverySeconds: new Histogram({ name: 'dane_relay_delivery_duration_seconds', help: 'Time from acceptance to final outcome per recipient', labelNames: ['status'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600], registers: r }),
    queueMessages: new Gauge({ name: 'dane_relay_queue_messages', help: 'Messages in the queue', registers: r,
      async collect() { const q = await probes().queue?.(); if (q) this.set(q.messages); } }),
    queueOldest: new Gauge({ name: 'dane_relay_queue_oldest_message_age_seconds', help: 'Age of the oldest queued message', registers: r,
      async collect() { const q = await probes().queue?.(); if (q) this.set(q.oldestAgeSeconds); } }),
    // Counts since start kept by the DNS client: counters (Prometheus naming), set from the probe at scrape time.
    dnsLookups: new Counter({ name: 'dane_relay_dns_lookups_total', help: 'DNS lookup results, by type and security status', labelNames: ['type', 'result'], registers: r,
      collect() {
        const d = probes().dns?.();
        if (!d) return;
        this.reset();
        for (const [type, results] of Object.entries(d.byType)) {
          for (const [result, n] of Object.entries(results as Record<string, unknown>)) {
            if (result !== 'queries' && typeof n === 'number' && n > 0) this.inc({ type, result }, n);
          }
        }
      } }),
    dnsCache: new Counter({ name: 'dane_relay_dns_cache_lookups_total', help: 'DNS cache lookups, by outcome', labelNames: ['outcome'], registers: r,
      collect() { const d = probes().dns?.(); if (d) { this.reset(); this.inc({ outcome: 'hit' }, d.cacheHits); this.inc({ outcome: 'miss' }, d.cacheMisses); } } }),
    dnsQueries: new Counter({ name: 'dane_relay_dns_queries_sent_total', help: 'DNS queries sent to resolvers', registers: r,
      collect() { const d = probes().dns?.(); if (d) { this.reset(); this.inc(d.queriesSent); } } }),
    connections: new Gauge({ name: 'dane_relay_open_connections', help: 'Open SMTP connections', labelNames: ['direction'], registers: r,
      collect() { const c = probes().connections?.(); if (c) { this.set({ direction: 'inbound' }, c.inbound); this.set({ direction: 'outbound' }, c.outbound); } } }),
  };
}

type Instruments = ReturnType<typeof build>;

function observeInto(m: Instruments, e: Record<string, unknown>): void {
  switch (e['event']) {
    case 'queued':
    case 'accepted':
      m.accepted.inc();
      if (typeof e['size'] === 'number') m.acceptedBytes.inc(e['size']);
      return;
    case 'internal-error':
      m.internalErrors.inc({ kind: str(e['kind'], 'session') });
      return;
    case 'reject':
      m.rejected.inc({ reason: str(e['reason'], 'other') });
      return;
    case 'queue-outcome':
      // Only what the delivery engine cannot know: the queue gave up (C30 audit trail).
      if (e['status'] === 'expired') m.recipients.inc({ status: 'expired' });
      return;
    case 'tls': {
      const state = str(field(e, 'tls.state'));
      m.tlsSessions.inc({ state, level: str(field(e, 'tls.level')) });
      // One DANE result per host attempt that reached TLS: usable TLSA and no authentication is a mismatch (C16).
      const result = str(field(e, 'dane.result'));
      m.daneResults.inc({ result: result === 'ok' && !AUTHENTICATED.has(state) ? 'mismatch' : result });
      return;
    }
    case 'host-skipped': {
      const cause = causeOf(e);
      m.hostsSkipped.inc({ cause });
      const result = field(e, 'dane.result');
      if (PRE_TLS_CAUSES.has(cause) && typeof result === 'string') m.daneResults.inc({ result });
      return;
    }
    case 'delivery': {
      const status = str(e['status'], 'unknown');
      m.recipients.inc({ status });
      if (status === 'sent') m.sentByTls.inc({ tls_state: str(field(e, 'tls.state')), tls_level: str(field(e, 'tls.level')) });
      else m.refused.inc({ cause: causeOf(e) });
      const delay = e['delay'];
      if (typeof delay === 'number' && Number.isFinite(delay)) m.deliverySeconds.observe({ status }, delay);
      return;
    }
    default:
  }
}

export function createMetrics(): RelayMetrics {
  const registry = new Registry();
  let probes: MetricsProbes = {};
  new Gauge({ name: 'dane_relay_up', help: 'Always 1 while the relay runs', registers: [registry], collect() { this.set(1); } });
  const m = build(registry, () => probes);
  return {
    registry,
    observe(event) {
      try { observeInto(m, event); } catch { /* metrics never break delivery */ }
    },
    setProbes(p) { probes = p; },
  };
}
