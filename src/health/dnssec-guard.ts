/**
 * The DNSSEC self-check around the relay's life (RFC 7672 §2.1.3, C6):
 * Postfix's `dnssec_probe`, at start-up and again for `/healthz`.
 *
 * Contract:
 * - `daneRequired(config)` is true when the default level or any entry of
 *   the policy table parsed at load (config/tables.ts) uses DANE (`dane`, `dane-only`).
 * - `startupDnssecCheck` probes once. On failure it logs an unmistakable
 *   error; with `dns.dnssec_probe.on_failure: refuse` (the default) and DANE
 *   required, it throws `DnssecProbeError` so nothing starts (a relay that
 *   cannot see DNSSEC would silently treat every domain as insecure: C1).
 * - `DnssecMonitor.check()` re-probes through an uncached client at most every
 *   `intervalMs` and returns null when healthy, else the reason.
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { configTables } from '../config/tables.ts';
import type { DnsLookup, RecordType } from '../core/dns-result.ts';
import { usesDane } from '../core/tls-level.ts';
import { probeDnssec } from '../dns/index.ts';

export class DnssecProbeError extends Error {
  readonly code = 'DNSSEC_PROBE';
}

export function daneRequired(config: RelayConfig): boolean {
  if (usesDane(config.tls.security_level)) return true;
  return [...configTables(config).policy.entries.values()].some((e) => usesDane(e.level));
}

function probeOf(config: RelayConfig): { name: string; type: RecordType } {
  return { name: config.dns.dnssec_probe.name, type: config.dns.dnssec_probe.type as RecordType };
}

export async function startupDnssecCheck(config: RelayConfig, dns: DnsLookup, logger: Logger): Promise<void> {
  const result = await probeDnssec(dns, probeOf(config));
  if (result.ok) {
    logger.info({ event: 'dnssec-probe', ok: true }, `DNSSEC probe ${config.dns.dnssec_probe.name} ${config.dns.dnssec_probe.type}: validated`);
    return;
  }
  const required = daneRequired(config);
  logger.error(
    { event: 'dnssec-probe', ok: false, reason: result.reason, daneRequired: required },
    `error: DNSSEC validation may be unavailable: ${result.reason}`,
  );
  if (required && config.dns.dnssec_probe.on_failure === 'refuse') {
    throw new DnssecProbeError(
      `${result.reason}; refusing to start because DANE is configured (set dns.dnssec_probe.on_failure: warn to start anyway)`,
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
