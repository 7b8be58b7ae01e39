/**
 * DNSSEC self-check, like Postfix's `dnssec_probe` (RFC 7672 §2.1.3, C6).
 *
 * Contract: ask one question whose answer must validate (default `. NS`); ok
 * only when the result is `secure`. Anything else — insecure (the resolver
 * does not validate, or is not trusted), a denial, a failure — is `ok: false`
 * with a reason for the log. The caller decides whether to refuse to start.
 */
import type { DnsLookup, RecordType } from '../core/dns-result.ts';

export type DnssecProbeResult = { ok: true } | { ok: false; reason: string };

export async function probeDnssec(
  lookup: DnsLookup,
  probe: { name: string; type: RecordType } = { name: '.', type: 'NS' },
): Promise<DnssecProbeResult> {
  const r = await lookup.lookup(probe.name, probe.type);
  const what = `DNSSEC probe ${probe.name} ${probe.type}`;
  switch (r.kind) {
    case 'secure':
      return { ok: true };
    case 'insecure':
      return { ok: false, reason: `${what}: answer not validated (AD bit clear or resolver not trusted): the resolver does not validate DNSSEC, DANE cannot work` };
    case 'nxdomain':
    case 'nodata':
      return { ok: false, reason: `${what}: ${r.kind}${r.secure ? '' : ' (not validated)'}: expected a validated answer` };
    case 'failure':
      return { ok: false, reason: `${what}: lookup failed (${r.reason}): ${r.detail}` };
  }
}
