/**
 * Tier 2, DNS: the project's DNS client against a real validating Unbound and
 * real signed zones (NSD + ldns-signzone) in a network namespace
 * (test/interop/netns-lab.sh). Proves C1 (secure / insecure / failure kept
 * apart, bogus = failure), C4's input (a bogus TLSA RRset in a signed zone is a
 * failure while the zone's A records stay secure), C5 (denials, secure or
 * not), C6 (the DNSSEC probe passes against a validating resolver) and C11's
 * input (CNAME chains secure only when every link is).
 *
 * Needs root, ip, nsd, unbound and ldnsutils: when they are missing the suite
 * FAILS with the list (CI installs them with scripts/system-deps.sh).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { DnsResult } from '../../src/core/dns-result.ts';
import type { DnssecProbeResult } from '../../src/dns/index.ts';
import { interopPrerequisites, startNetnsLab, type NetnsLab } from '../../src/lab/interop/netns-lab.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TLSA_HEX = 'ab'.repeat(32);

const EXTRA = {
  'good.test': [
    `_25._tcp.mx2.good.test. 3600 IN TLSA 3 1 1 ${TLSA_HEX}`,
    'mx2.good.test. 3600 IN A 127.0.0.11',
    'alias.good.test. 3600 IN CNAME mx2.good.test.',
    'to-unsigned.good.test. 3600 IN CNAME mx.unsigned.test.',
  ].join('\n'),
};

interface ProbeOutput {
  probe: DnssecProbeResult;
  results: Array<{ name: string; type: string; result: DnsResult<Record<string, unknown>> }>;
}

type Expect =
  | { kind: 'secure' | 'insecure'; first?: Record<string, unknown>; cnames?: number }
  | { kind: 'nxdomain' | 'nodata'; secure: boolean }
  | { kind: 'failure' };

const CASES: Array<{ rule: string; q: string; want: Expect }> = [
  { rule: 'C1: signed MX is secure', q: 'good.test:MX', want: { kind: 'secure', first: { exchange: 'mx.good.test', preference: 10 } } },
  { rule: 'C1: signed A is secure', q: 'mx.good.test:A', want: { kind: 'secure', first: { address: '127.0.0.10' } } },
  { rule: 'C2: signed TLSA is secure with its data', q: '_25._tcp.mx2.good.test:TLSA', want: { kind: 'secure', first: { usage: 3, selector: 1, matchingType: 1, data: TLSA_HEX } } },
  { rule: 'C5: NXDOMAIN in a signed zone is a secure denial', q: 'nope.good.test:A', want: { kind: 'nxdomain', secure: true } },
  { rule: 'C5: NODATA in a signed zone is a secure denial', q: '_25._tcp.mx.good.test:TXT', want: { kind: 'nodata', secure: true } },
  { rule: 'C1: unsigned zone (no DS) is insecure', q: 'unsigned.test:MX', want: { kind: 'insecure', first: { exchange: 'mx.unsigned.test' } } },
  { rule: 'C1: unsigned A is insecure', q: 'mx.unsigned.test:A', want: { kind: 'insecure', first: { address: '127.0.0.20' } } },
  { rule: 'C2: TLSA in an unsigned zone comes back insecure', q: '_25._tcp.mx.unsigned.test:TLSA', want: { kind: 'insecure', first: { usage: 3 } } },
  { rule: 'C5: NXDOMAIN in an unsigned zone is an insecure denial', q: '_25._tcp.nope.unsigned.test:TLSA', want: { kind: 'nxdomain', secure: false } },
  { rule: 'C1: DS/DNSKEY mismatch (bogus) is a failure, never insecure', q: 'bogus.test:MX', want: { kind: 'failure' } },
  { rule: 'C1: expired RRSIGs (bogus) are a failure', q: 'mx.expired.test:A', want: { kind: 'failure' } },
  { rule: 'C4: TLSA altered after signing is a failure', q: '_25._tcp.mx.badtlsa.test:TLSA', want: { kind: 'failure' } },
  { rule: 'C4: the same zone\'s untouched A RRset stays secure', q: 'mx.badtlsa.test:A', want: { kind: 'secure', first: { address: '127.0.0.50' } } },
  { rule: 'C11: CNAME inside a signed zone is secure', q: 'alias.good.test:A', want: { kind: 'secure', first: { address: '127.0.0.11' }, cnames: 1 } },
  { rule: 'C11: CNAME into an unsigned zone is insecure', q: 'to-unsigned.good.test:A', want: { kind: 'insecure', first: { address: '127.0.0.20' }, cnames: 1 } },
];

function check(got: DnsResult<Record<string, unknown>>, want: Expect): void {
  const detail = JSON.stringify(got);
  assert.equal(got.kind, want.kind, detail);
  if (got.kind === 'failure') {
    assert.equal(got.reason, 'servfail', detail);
    return;
  }
  if (got.kind === 'nxdomain' || got.kind === 'nodata') {
    assert.equal(got.secure, (want as { secure: boolean }).secure, detail);
    return;
  }
  const w = want as { first?: Record<string, unknown>; cnames?: number };
  assert.ok(got.records.length > 0, detail);
  if (w.first) {
    for (const [k, v] of Object.entries(w.first)) assert.deepEqual(got.records[0]?.[k], v, `${k} in ${detail}`);
  }
  assert.equal(got.cnames.length, w.cnames ?? 0, detail);
}

describe('tier 2: DNS client against real Unbound + NSD in a network namespace', () => {
  let lab: NetnsLab | undefined;
  let out: ProbeOutput | undefined;
  /** A set-up failure fails every test with its message (counted as failures, not cancellations). */
  let setupError: unknown;

  before(async () => { try { await setUp(); } catch (e) { setupError = e; } });

  async function setUp(): Promise<void> {
    const missing = interopPrerequisites();
    if (missing.length > 0) {
      throw new Error(`tier-2 interop prerequisites missing: ${missing.join('; ')} — run as root after scripts/system-deps.sh`);
    }
    lab = await startNetnsLab({ extraRecords: EXTRA });
    const r = await lab.run(process.execPath, ['--import', 'tsx', 'test/interop/dns-probe.ts', ...CASES.map((c) => c.q)], { cwd: REPO, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `dns-probe failed:\n${r.stdout}\n${r.stderr}`);
    out = JSON.parse(r.stdout) as ProbeOutput;
  }

  after(async () => { await lab?.down(); });

  test('lab self-check: drill sees AD on good.test, none on unsigned.test, SERVFAIL on bogus.test', () => {
    if (setupError) throw setupError;
    assert.match(lab?.upOutput ?? '', /ok \(good\.test AD, unsigned\.test no AD, bogus\.test SERVFAIL\)/);
  });

  test('C6: DNSSEC probe (. NS) passes against the validating lab resolver', () => {
    if (setupError) throw setupError;
    assert.deepEqual(out?.probe, { ok: true });
  });

  for (const [i, c] of CASES.entries()) {
    test(`${c.rule} (${c.q})`, () => {
      if (setupError) throw setupError;
      const r = out?.results[i];
      assert.ok(r, 'probe output missing');
      assert.equal(`${r.name}:${r.type}`, c.q);
      check(r.result, c.want);
    });
  }
});
