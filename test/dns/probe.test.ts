/**
 * DNSSEC self-check like Postfix's dnssec_probe (C6), against the lab resolver.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startLabResolver } from '../../src/lab/lab-resolver.ts';
import { probeDnssec } from '../../src/dns/probe.ts';
import { testClient } from './helpers.ts';

describe('DNSSEC probe', () => {
  test('C6: ok with a validating trusted resolver; not ok when not validating, untrusted, bogus or down', async () => {
    const lab = await startLabResolver({ zones: [] });
    try {
      const ok = testClient([lab]);
      assert.deepEqual(await probeDnssec(ok), { ok: true });
      await ok.close();

      const untrusted = testClient([lab], { trustedNetworks: ['10.0.0.0/8'] });
      const u = await probeDnssec(untrusted);
      assert.equal(u.ok, false);
      assert.match(u.ok ? '' : u.reason, /not validated/);
      await untrusted.close();

      lab.setValidating(false);
      const nv = testClient([lab]);
      assert.equal((await probeDnssec(nv)).ok, false);
      await nv.close();
      lab.setValidating(true);

      lab.setZones([{ origin: '.', signed: true, bogus: true, records: [] }]);
      const bogus = testClient([lab]);
      const b = await probeDnssec(bogus);
      assert.match(b.ok ? '' : b.reason, /servfail/);
      await bogus.close();

      lab.setZones([{ origin: 'example.com', signed: true, records: [{ name: 'example.com', type: 'A', data: '127.0.0.1' }] }]);
      const custom = testClient([lab]);
      assert.deepEqual(await probeDnssec(custom, { name: 'example.com', type: 'A' }), { ok: true });
      const nx = await probeDnssec(custom, { name: 'nope.example.com', type: 'A' });
      assert.match(nx.ok ? '' : nx.reason, /nxdomain/);
      await custom.close();
    } finally { await lab.close(); }
  });

  test('C6: resolver unreachable → not ok, reason says the lookup failed', async () => {
    const lab = await startLabResolver({ zones: [] });
    const port = lab.port;
    await lab.close(); // nothing listens there now
    const c = testClient([{ host: '127.0.0.1', port }], { timeoutMs: 100, attempts: 1 });
    try {
      const r = await probeDnssec(c);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.reason, /lookup failed/);
    } finally { await c.close(); }
  });
});
