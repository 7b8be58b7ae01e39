/**
 * DANE-TA through the real TLS stack: the chain the engine reads from the
 * socket is what the server sent (no root appended from a local store), SNI
 * is the TLSA base domain (C17, C23).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createIntermediateCa, createRootCa, issueLeaf, type IssuedCert } from '../../src/lab/certs.ts';
import type { LabZone } from '../../src/lab/lab-resolver.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import { addMx, collectingLogger, job, startLab, testConfig, tlsa } from './helpers.ts';

let root: IssuedCert;
let inter: IssuedCert;
let leaf: IssuedCert;
before(async () => {
  root = await createRootCa('Lab Root');
  inter = await createIntermediateCa(root, 'Lab Intermediate');
  leaf = await issueLeaf(inter, { dnsNames: ['mx1.dane.test'] });
});

function zones(port: number, data: Uint8Array): LabZone[] {
  return [{
    origin: 'dane.test', signed: true,
    records: [
      { name: 'dane.test', type: 'MX', data: { preference: 10, exchange: 'mx1.dane.test' } },
      { name: 'mx1.dane.test', type: 'A', data: '127.0.0.2' },
      { name: `_${port}._tcp.mx1.dane.test`, type: 'TLSA', data: tlsa(2, 1, 1, data) },
    ],
  }];
}

async function deliverWith(taCert: IssuedCert) {
  const lab = await startLab([]);
  try {
    lab.resolver.setZones(zones(lab.port, tlsaDataFor(taCert.der, 1, 1)));
    const mx = await addMx(lab, { host: '127.0.0.2', cert: leaf }); // sends leaf + intermediate, not the root
    const { logger, events } = collectingLogger();
    const d = await createDeliverer(testConfig(lab.port), { logger, dns: lab.dns });
    try {
      return { out: await d.deliver(job('dane.test', ['a@dane.test'])), mx, events };
    } finally {
      await d.close();
    }
  } finally {
    await lab.close();
  }
}

describe('DANE-TA over the wire', () => {
  test('C23: 2 1 1 of the intermediate the server sent → Verified at depth 1; C17: SNI is the TLSA base', async () => {
    const { out, mx, events } = await deliverWith(inter);
    assert.equal(out[0]?.status, 'sent');
    assert.deepEqual(mx.stats.sni, ['mx1.dane.test']);
    const tls = events.find((e) => e.event === 'tls') as { tls: { state: string }; dane: { match: string } };
    assert.equal(tls.tls.state, 'Verified');
    assert.match(tls.dane.match, /^2 1 1 [0-9a-f]{64} depth=1$/);
  });

  test('C23: 2 1 1 of a root the server did not send → not verified, deferred 4.7.5', async () => {
    const { out, mx } = await deliverWith(root);
    assert.equal(out[0]?.status, 'deferred');
    assert.equal(out[0]?.dsn, '4.7.5');
    assert.equal(mx.stats.mailFrom, 0);
  });
});
