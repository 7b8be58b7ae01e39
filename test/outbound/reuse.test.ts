/**
 * Connection reuse and the cost of delivery under load (C31, C33), the `may`
 * plaintext retry after a failed handshake, and that no other level retries.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { NO_ISSUER_CA_PEM } from '../../src/outbound/trust-store.ts';
import { createSelfSigned, type IssuedCert } from '../../src/lab/certs.ts';
import type { LabZone } from '../../src/lab/lab-resolver.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import type { RelayConfigInput } from '../../src/config/schema.ts';
import { addMx, collectingLogger, eventually, job, startLab, testConfig, tlsa, type Lab } from './helpers.ts';

let cert1: IssuedCert;
let cert1b: IssuedCert;
before(async () => {
  cert1 = await createSelfSigned({ dnsNames: ['mx1.dane.test'] });
  cert1b = await createSelfSigned({ dnsNames: ['mx1.dane.test'] });
});

function zones(port: number, tlsaData: Uint8Array[] | null): LabZone[] {
  return [{
    origin: 'dane.test', signed: true,
    records: [
      { name: 'dane.test', type: 'MX', data: { preference: 10, exchange: 'mx1.dane.test' } },
      { name: 'mx1.dane.test', type: 'A', data: '127.0.0.2' },
      ...(tlsaData ?? []).map((d) => ({ name: `_${port}._tcp.mx1.dane.test`, type: 'TLSA' as const, data: tlsa(3, 1, 1, d) })),
    ],
  }];
}

async function withLab<T>(fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await startLab([]);
  try { return await fn(lab); } finally { await lab.close(); }
}

async function deliverer(lab: Lab, extra: Partial<RelayConfigInput> = {}) {
  const { logger, events } = collectingLogger();
  return { d: await createDeliverer(testConfig(lab.port, extra), { logger, dns: lab.dns }), events };
}

describe('connection reuse', () => {
  test('200 messages to one destination: TLS handshakes and DNS queries far below one per message', async () => {
    await withLab(async (lab) => {
      lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1.der, 1, 1)]));
      const mx = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      const { d } = await deliverer(lab, { delivery: { port: lab.port, connection_reuse: { max_messages: 1000, idle_timeout: '30s' } } });
      try {
        const total = 200;
        const concurrency = 8;
        let next = 0;
        const statuses: string[] = [];
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (next < total) {
            next++;
            const out = await d.deliver(job('dane.test', [`u${next}@dane.test`]));
            statuses.push(...out.map((o) => o.status));
          }
        }));
        assert.equal(statuses.length, total);
        assert.ok(statuses.every((s) => s === 'sent'));
        assert.equal(mx.stats.messages.length, total);
        assert.ok(mx.stats.messages.every((m) => m.secure));
        assert.ok(mx.stats.tlsHandshakes <= concurrency, `handshakes: ${mx.stats.tlsHandshakes}`);
        assert.ok(lab.resolver.queryCount() <= 10, `DNS queries: ${lab.resolver.queryCount()}`);
      } finally {
        await d.close();
      }
      assert.ok(await eventually(() => mx.stats.closes === mx.stats.connections), 'close() QUITs every pooled session');
    });
  });

  test('C31: a new TLSA RRset never rides on a session verified under the old one', async () => {
    await withLab(async (lab) => {
      lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1.der, 1, 1)]));
      const mx = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      const { d } = await deliverer(lab);
      try {
        assert.equal((await d.deliver(job('dane.test', ['a@dane.test'])))[0]?.status, 'sent');
        assert.equal((await d.deliver(job('dane.test', ['b@dane.test'])))[0]?.status, 'sent');
        assert.equal(mx.stats.tlsHandshakes, 1, 'same policy: the session is reused');
        // Key rollover: the RRset now lists two keys; the next message needs a session verified under it.
        lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1.der, 1, 1), tlsaDataFor(cert1b.der, 1, 1)]));
        lab.dns.clearCache();
        assert.equal((await d.deliver(job('dane.test', ['c@dane.test'])))[0]?.status, 'sent');
        assert.equal(mx.stats.tlsHandshakes, 2);
        // The RRset no longer matches the server: the pooled session is not used, nothing is sent.
        lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1b.der, 1, 1)]));
        lab.dns.clearCache();
        const out = await d.deliver(job('dane.test', ['d@dane.test']));
        assert.equal(out[0]?.status, 'deferred');
        assert.equal(out[0]?.dsn, '4.7.5');
        assert.deepEqual(mx.stats.messages.map((m) => m.to[0]), ['a@dane.test', 'b@dane.test', 'c@dane.test']);
      } finally {
        await d.close();
      }
    });
  });

  test('max_messages bounds the messages per session', async () => {
    await withLab(async (lab) => {
      lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1.der, 1, 1)]));
      const mx = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      const { d, events } = await deliverer(lab, { delivery: { port: lab.port, connection_reuse: { max_messages: 3, idle_timeout: '30s' } } });
      try {
        for (let i = 0; i < 7; i++) assert.equal((await d.deliver(job('dane.test', [`r${i}@dane.test`])))[0]?.status, 'sent');
        assert.equal(mx.stats.tlsHandshakes, 3);
        const uses = events.filter((e) => e.event === 'delivery').map((e) => e.connUse);
        assert.deepEqual(uses, [1, 2, 3, 1, 2, 3, 1]);
      } finally {
        await d.close();
      }
    });
  });

  test('every connection shares the engine\'s one TLS client context: none is built per connection (issue 15)', async () => {
    await withLab(async (lab) => {
      lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1.der, 1, 1)]));
      const mx = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      const { d } = await deliverer(lab, { delivery: { port: lab.port, connection_reuse: { max_messages: 1, idle_timeout: '30s' } } });
      // Node's tls.connect builds a context from the options (`ca`) unless it is handed one: count the no-issuer ones built.
      const original = tls.createSecureContext;
      let built = 0;
      tls.createSecureContext = (options) => {
        const ca = options?.ca;
        if ((Array.isArray(ca) ? ca : [ca]).includes(NO_ISSUER_CA_PEM)) built++;
        return original(options);
      };
      try {
        for (let i = 0; i < 4; i++) assert.equal((await d.deliver(job('dane.test', [`c${i}@dane.test`])))[0]?.status, 'sent');
        assert.equal(mx.stats.tlsHandshakes, 4, 'one connection per message');
        assert.equal(built, 0);
      } finally {
        tls.createSecureContext = original;
        await d.close();
      }
    });
  });

  test('an idle session is closed after idle_timeout', async () => {
    await withLab(async (lab) => {
      lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1.der, 1, 1)]));
      const mx = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      const { d } = await deliverer(lab, { delivery: { port: lab.port, connection_reuse: { max_messages: 100, idle_timeout: '0.05s' } } });
      try {
        assert.equal((await d.deliver(job('dane.test', ['a@dane.test'])))[0]?.status, 'sent');
        assert.ok(await eventually(() => mx.stats.closes === 1), 'the server saw the idle session end');
        assert.equal((await d.deliver(job('dane.test', ['b@dane.test'])))[0]?.status, 'sent');
        assert.equal(mx.stats.tlsHandshakes, 2);
      } finally {
        await d.close();
      }
    });
  });
});

describe('failed TLS handshakes', () => {
  test('at may, a failed handshake is retried once in plaintext to the same address', async () => {
    await withLab(async (lab) => {
      lab.resolver.setZones(zones(lab.port, null));
      const mx = await addMx(lab, { host: '127.0.0.2', cert: cert1, maxTlsVersion: 'TLSv1.1' });
      const { d, events } = await deliverer(lab, { tls: { security_level: 'may' } });
      try {
        const out = await d.deliver(job('dane.test', ['a@dane.test']));
        assert.equal(out[0]?.status, 'sent');
        assert.equal(mx.stats.connections, 2);
        assert.equal(mx.stats.messages[0]?.secure, false);
        const del = events.find((e) => e.event === 'delivery') as { tls: { feature: string } };
        assert.equal(del.tls.feature, 'may:none');
        assert.ok(events.some((e) => e.event === 'tls-fallback'), 'the plaintext retry is logged');
      } finally {
        await d.close();
      }
    });
  });

  test('C14: at dane with usable TLSA, a failed handshake is not retried in plaintext', async () => {
    await withLab(async (lab) => {
      lab.resolver.setZones(zones(lab.port, [tlsaDataFor(cert1.der, 1, 1)]));
      const mx = await addMx(lab, { host: '127.0.0.2', cert: cert1, maxTlsVersion: 'TLSv1.1' });
      const { d } = await deliverer(lab);
      try {
        const out = await d.deliver(job('dane.test', ['a@dane.test']));
        assert.equal(out[0]?.status, 'deferred');
        assert.equal(out[0]?.dsn, '4.7.5');
        assert.equal(mx.stats.connections, 1);
        assert.equal(mx.stats.mailFrom, 0);
      } finally {
        await d.close();
      }
    });
  });
});
