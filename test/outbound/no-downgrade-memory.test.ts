/**
 * C33: no state learned from earlier failures lowers the level of a later
 * attempt. The same delivery engine (its session pool and DNS cache alive)
 * tries again and again a host whose TLSA records are usable but whose TLS
 * fails — STARTTLS not offered, or a handshake that cannot succeed — and
 * every attempt defers; the server never sees MAIL FROM, in plaintext or
 * otherwise. C18: an anonymous peer (no certificate) never authenticates
 * under DANE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSelfSigned } from '../../src/lab/certs.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { verifyPeer } from '../../src/core/verify-peer.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import { addMx, collectingLogger, job, startLab, testConfig, tlsa } from './helpers.ts';

for (const [what, server] of [
  ['STARTTLS not offered', { starttls: false }],
  ['TLS handshake that cannot succeed', { maxTlsVersion: 'TLSv1' as const }],
] as const) {
  test(`C33: ${what} — three attempts by one engine all defer, never plaintext`, async () => {
    const cert = await createSelfSigned({ dnsNames: ['mx1.dane.test'] });
    const lab = await startLab([]);
    lab.resolver.setZones([{
      origin: 'dane.test', signed: true, records: [
        { name: 'dane.test', type: 'MX', data: { preference: 10, exchange: 'mx1.dane.test' } },
        { name: 'mx1.dane.test', type: 'A', data: '127.0.0.2' },
        { name: `_${lab.port}._tcp.mx1.dane.test`, type: 'TLSA', data: tlsa(3, 1, 1, tlsaDataFor(cert.der, 1, 1)) },
      ],
    }]);
    const mx = await addMx(lab, { host: '127.0.0.2', cert, ...server });
    const { logger } = collectingLogger();
    const deliverer = await createDeliverer(testConfig(lab.port), { logger, dns: lab.dns });
    try {
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [out] = await deliverer.deliver({ ...job('dane.test', ['a@dane.test']), attempt });
        assert.equal(out?.status, 'deferred', `attempt ${attempt}`);
        assert.match(out?.dsn ?? '', /^4\.7\./, `attempt ${attempt}: ${out?.diagnostic}`);
      }
      assert.ok(mx.stats.connections >= 3, 'every attempt went back to the server');
      assert.equal(mx.stats.mailFrom, 0, 'MAIL FROM was never sent');
      assert.equal(mx.stats.messages.length, 0);
    } finally {
      await deliverer.close();
      await lab.close();
    }
  });
}

test('C18: a peer that presents no certificate (anonymous TLS) never authenticates under DANE', async () => {
  const cert = await createSelfSigned({ dnsNames: ['mx1.dane.test'] });
  const auth = { kind: 'dane' as const, records: [{ usage: 3 as const, selector: 1 as const, matchingType: 1 as const, data: tlsaDataFor(cert.der, 1, 1) }], referenceNames: ['mx1.dane.test'], halfDane: false };
  const verdict = verifyPeer(auth, { certificates: [] }, { now: new Date(), trustAnchors: [] });
  assert.equal(verdict.state, 'Anonymous');
  assert.equal(verdict.authenticated, false);
});
