/**
 * The DNSSEC self-check around the relay's life (RFC 7672 §2.1.3, C6):
 * Postfix's `dnssec_probe`, at start-up and again for `/healthz`.
 *
 * Contract:
 * - `daneRequired(config)` is true when the default level or any entry of
 *   the policy table parsed at load (config/tables.ts) uses DANE (`dane`, `dane-only`).
 * - `startupDnssecCheck` probes once. On failure it logs an unmistakable
 *   error; when core/dnssec-guard decides `refuse` (DANE required and
 *   `dns.dnssec_probe.on_failure: refuse`, the default) it throws
 *   `DnssecProbeError` so nothing starts (a relay that cannot see DNSSEC would
 *   silently treat every domain as insecure: C1). `check` uses the same
 *   decision and `probeOf`.
 * - `DnssecMonitor.check()` re-probes through an uncached client at most every
 *   `intervalMs` and returns null when healthy, else the reason.
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { configTables } from '../config/tables.ts';
import type { DnsLookup, RecordType } from '../core/dns-result.ts';
import { dnssecGuard } from '../core/dnssec-guard.ts';
import { usesDane } from '../core/tls-level.ts';
import { probeDnssec } from '../dns/index.ts';

export class DnssecProbeError extends Error {
  readonly code = 'DNSSEC_PROBE';
}

export function daneRequired(config: RelayConfig): boolean {
  if (usesDane(config.tls.security_level)) return true;
  return [...configTables(config).policy.entries.values()].some((e) => usesDane(e.level));
}

const PROBE_TYPES: readonly string[] = ['A', 'AAAA', 'MX', 'TLSA', 'CNAME', 'NS', 'SOA', 'TXT'];

/** The configured probe query; a type the DNS client cannot ask for becomes `NS` (Postfix's default probe). */
export function probeOf(config: RelayConfig): { name: string; type: RecordType } {
  const type = config.dns.dnssec_probe.type.toUpperCase();
  return { name: config.dns.dnssec_probe.name, type: (PROBE_TYPES.includes(type) ? type : 'NS') as RecordType };
}

export async function startupDnssecCheck(config: RelayConfig, dns: DnsLookup, logger: Logger): Promise<void> {
  const result = await probeDnssec(dns, probeOf(config));
  const required = daneRequired(config);
  const decision = dnssecGuard(result, { daneRequired: required, onFailure: config.dns.dnssec_probe.on_failure });
  if (decision.kind === 'proceed') {
    logger.info({ event: 'dnssec-probe', ok: true }, `DNSSEC probe ${config.dns.dnssec_probe.name} ${config.dns.dnssec_probe.type}: validated`);
    return;
  }
  logger.error(
    { event: 'dnssec-probe', ok: false, reason: decision.reason, daneRequired: required },
    `error: DNSSEC validation may be unavailable: ${decision.reason}`,
  );
  if (decision.kind === 'refuse') {
    throw new DnssecProbeError(
      `${decision.reason}; refusing to start because DANE is configured (set dns.dnssec_probe.on_failure: warn to start anyway)`,
    );
  }
}

export class DnssecMonitor {
  private last: { at: number; reason: string | null } | undefined;
  private pending: Promise<string | null> | undefined;

  constructor(
    private readonly dns: DnsLookup,
    private readonly probe: { name: string; type: RecordType },
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static fromConfig(config: RelayConfig, uncachedDns: DnsLookup, intervalMs: number): DnssecMonitor {
    return new DnssecMonitor(uncachedDns, probeOf(config), intervalMs);
  }

  check(): Promise<string | null> {
    if (this.last && this.now() - this.last.at < this.intervalMs) return Promise.resolve(this.last.reason);
    this.pending ??= probeDnssec(this.dns, this.probe)
      .then((r) => (r.ok ? null : r.reason))
      .then((reason) => {
        this.last = { at: this.now(), reason };
        return reason;
      })
      .finally(() => { this.pending = undefined; });
    return this.pending;
  }
}
