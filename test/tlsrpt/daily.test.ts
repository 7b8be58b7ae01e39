import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDailyReports } from '../../src/tlsrpt/daily.ts';
import type { TlsrptAttempt } from '../../src/tlsrpt/result-types.ts';
import { TlsrptStore } from '../../src/tlsrpt/store.ts';
import { validateReport } from '../../src/tlsrpt/validate.ts';
import { FakeDns } from '../sts/helpers.ts';

const AT = Date.parse('2026-11-30T12:00:00Z');
function attempt(domain: string): TlsrptAttempt {
  return { at: AT, policyDomain: domain, policyType: 'no-policy-found', policyStrings: [], mxHost: [], receivingMxHostname: `mx.${domain}`, result: { kind: 'success' } };
}

test('RFC 8460 §3, §4: one validated report per domain; sent only where _smtp._tls asks; a DNS failure keeps it for later', async () => {
  const spool = await mkdtemp(join(tmpdir(), 'tlsrpt-daily-'));
  try {
    const store = await TlsrptStore.open(spool);
    for (const d of ['wants.example', 'silent.example', 'broken.example']) await store.record(attempt(d));
    await store.close();
    const dns = new FakeDns().txt('_smtp._tls.wants.example', 'v=TLSRPTv1; rua=mailto:tls@wants.example').fail('_smtp._tls.broken.example', 'TXT');
    const { reports } = await prepareDailyReports(store, dns, '2026-11-30', { organizationName: 'relay.example.net', contactInfo: 'postmaster@relay.example.net' });
    assert.deepEqual(reports.map((r) => `${r.domain} ${r.kind}`), ['broken.example tempfail', 'silent.example no-rua', 'wants.example ready']);
    for (const r of reports) assert.deepEqual(validateReport(r.report), []);
    const ready = reports.find((r) => r.kind === 'ready');
    assert.equal(ready?.report['report-id'], '2026-11-30_wants.example@relay.example.net');
    assert.deepEqual(ready?.kind === 'ready' && ready.rua.map((u) => u.kind), ['mailto']);
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
});
