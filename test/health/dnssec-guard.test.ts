/**
 * health/dnssec-guard: the start-up self-check applies core/dnssec-guard with
 * what the configuration requires (RFC 7672 §2.1.3, C6).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import type { DnsLookup } from '../../src/core/dns-result.ts';
import { DnssecProbeError, daneRequired, probeOf, startupDnssecCheck } from '../../src/health/dnssec-guard.ts';

const notValidating: DnsLookup = { lookup: async () => ({ kind: 'insecure', records: [] }) as never };
const validating: DnsLookup = { lookup: async () => ({ kind: 'secure', records: [] }) as never };
const quiet = pino({ level: 'silent' });

describe('start-up DNSSEC check', () => {
  const base = loadConfig(undefined);
  const withLevel = (level: string, policy: Record<string, string> = {}) => parseConfig({ tls: { security_level: level, policy } });

  test('C6: DANE by default and a resolver that does not validate: refuses to start', async () => {
    await assert.rejects(startupDnssecCheck(base, notValidating, quiet), DnssecProbeError);
  });
  test('C6: level may and no DANE policy entry: warns and starts', async () => {
    await startupDnssecCheck(withLevel('may'), notValidating, quiet);
  });
  test('C6: level may but a policy entry at dane-only: DANE is required, refuses', async () => {
    const config = withLevel('may', { 'secure.example': 'dane-only' });
    assert.equal(daneRequired(config), true);
    await assert.rejects(startupDnssecCheck(config, notValidating, quiet), DnssecProbeError);
  });
  test('C6: a validating resolver starts', async () => {
    await startupDnssecCheck(base, validating, quiet);
  });
  test('the probe query type is upper-cased; one the client cannot ask becomes NS', () => {
    const at = (type: string) => probeOf({ ...base, dns: { ...base.dns, dnssec_probe: { ...base.dns.dnssec_probe, type } } }).type;
    assert.equal(at('soa'), 'SOA');
    assert.equal(at('HINFO'), 'NS');
  });
});
