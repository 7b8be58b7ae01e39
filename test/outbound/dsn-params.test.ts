/**
 * What the next hop sees on the wire: DSN parameters per recipient (RFC 3461
 * §4.1–§4.4) in one transaction, only to a server that offers DSN; and
 * REQUIRETLS (RFC 8689 §4.2.1): only to a DANE-verified host that offers it,
 * else the next host, and 5.7.30 once every host refused. Pins the nodemailer
 * internals session.ts relies on (`_getDsnRcptToArgs`, `_recipientQueue`,
 * `_createSendStream`).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { createSelfSigned, type IssuedCert } from '../../src/lab/certs.ts';
import type { LabZone } from '../../src/lab/lab-resolver.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import { rcptDsnArgs, xtext } from '../../src/outbound/session.ts';
import type { DeliveryJob, RecipientOutcome } from '../../src/queue/deliverer.ts';
import type { RelayConfigInput } from '../../src/config/schema.ts';
import { addMx, collectingLogger, job, startLab, testConfig, tlsa, type Lab, type MxServer } from './helpers.ts';

let cert1: IssuedCert;
let cert2: IssuedCert;
before(async () => {
  cert1 = await createSelfSigned({ dnsNames: ['mx1.dane.test'] });
  cert2 = await createSelfSigned({ dnsNames: ['mx2.dane.test'] });
});

function zones(port: number, opts: { tlsa1?: boolean; tlsa2?: boolean } = {}): LabZone[] {
  return [
    {
      origin: 'dane.test', signed: true, records: [
        { name: 'dane.test', type: 'MX', data: { preference: 10, exchange: 'mx1.dane.test' } },
        { name: 'dane.test', type: 'MX', data: { preference: 20, exchange: 'mx2.dane.test' } },
        { name: 'mx1.dane.test', type: 'A', data: '127.0.0.2' },
        { name: 'mx2.dane.test', type: 'A', data: '127.0.0.3' },
        ...(opts.tlsa1 !== false ? [{ name: `_${port}._tcp.mx1.dane.test`, type: 'TLSA' as const, data: tlsa(3, 1, 1, tlsaDataFor(cert1.der, 1, 1)) }] : []),
        ...(opts.tlsa2 !== false ? [{ name: `_${port}._tcp.mx2.dane.test`, type: 'TLSA' as const, data: tlsa(3, 1, 1, tlsaDataFor(cert2.der, 1, 1)) }] : []),
      ],
    },
  ];
}

async function deliver(z: (port: number) => LabZone[], setup: (lab: Lab) => Promise<void>, j: (d: DeliveryJob) => DeliveryJob, extra: Partial<RelayConfigInput> = {}): Promise<{ out: RecipientOutcome[]; events: Array<Record<string, unknown>> }> {
  const lab = await startLab([]);
  try {
    lab.resolver.setZones(z(lab.port));
    await setup(lab);
    const { logger, events } = collectingLogger();
    const d = await createDeliverer(testConfig(lab.port, extra), { logger, dns: lab.dns });
    try {
      return { out: await d.deliver(j(job('dane.test', ['a@dane.test', 'b@dane.test']))), events };
    } finally {
      await d.close();
    }
  } finally {
    await lab.close();
  }
}

const withDsn = (d: DeliveryJob): DeliveryJob => ({
  ...d, dsn: { ret: 'HDRS', envid: 'ENV 1+2' },
  recipientDsn: { 'a@dane.test': { notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;A+x@dane.test' }, 'b@dane.test': { notify: ['NEVER'] } },
});

describe('nodemailer contract (session.ts)', () => {
  test('SMTPConnection still builds RCPT TO arguments through _getDsnRcptToArgs', () => {
    assert.equal(typeof (SMTPConnection.prototype as unknown as Record<string, unknown>)._getDsnRcptToArgs, 'function');
  });
  test('SMTPConnection still starts a message body through _createSendStream (session.ts corks around it)', () => {
    assert.equal(typeof (SMTPConnection.prototype as unknown as Record<string, unknown>)._createSendStream, 'function');
  });
  test('RFC 3461 §4: xtext encodes "+", "=", space and non-ASCII', () => {
    assert.equal(xtext('rfc822;a+b=c d@€.test'), 'rfc822;a+2Bb+3Dc+20d@+E2+82+AC.test');
    assert.equal(rcptDsnArgs({ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;a@b' }), ' NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b');
    assert.equal(rcptDsnArgs(undefined), '');
  });
});

describe('RFC 3461: DSN parameters passed on to the next hop', () => {
  test('§4.1–§4.4: a server offering DSN gets RET, ENVID and each recipient\'s own NOTIFY/ORCPT, in ONE transaction', async () => {
    let mx!: MxServer;
    const { out } = await deliver((p) => zones(p), async (lab) => { mx = await addMx(lab, { host: '127.0.0.2', cert: cert1 }); }, withDsn);
    assert.deepEqual(out.map((o) => [o.status, o.hopOffersDsn]), [['sent', true], ['sent', true]]);
    assert.equal(mx.stats.messages.length, 1, 'one transaction for both recipients');
    const env = mx.stats.messages[0]?.envelope;
    assert.deepEqual(env?.dsn, { ret: 'HDRS', envid: 'ENV 1+2' });
    assert.deepEqual(env?.rcptDsn, [{ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;A+x@dane.test' }, { notify: ['NEVER'] }]);
  });

  test('§5.2.2: a server without DSN gets no DSN parameters; the outcome says so (the queue then sends "relayed")', async () => {
    let mx!: MxServer;
    const { out } = await deliver((p) => zones(p), async (lab) => { mx = await addMx(lab, { host: '127.0.0.2', cert: cert1, dsn: false }); }, withDsn);
    assert.deepEqual(out.map((o) => [o.status, o.hopOffersDsn]), [['sent', false], ['sent', false]]);
    assert.deepEqual(mx.stats.messages[0]?.envelope?.rcptDsn, [null, null]);
  });
});

describe('RFC 8689 §4.2.1: REQUIRETLS toward the next hop', () => {
  const rt = (d: DeliveryJob): DeliveryJob => ({ ...d, requireTls: true });

  test('a DANE-verified host offering REQUIRETLS gets the message with REQUIRETLS on MAIL FROM', async () => {
    let mx!: MxServer;
    const { out } = await deliver((p) => zones(p), async (lab) => { mx = await addMx(lab, { host: '127.0.0.2', cert: cert1, requireTls: true }); }, rt);
    assert.deepEqual(out.map((o) => o.status), ['sent', 'sent']);
    assert.equal(mx.stats.messages[0]?.envelope?.requireTLS, true);
  });

  test('the first host does not offer REQUIRETLS: not used (no MAIL FROM), the next host that does gets it', async () => {
    let mx1!: MxServer; let mx2!: MxServer;
    const { out, events } = await deliver((p) => zones(p), async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      mx2 = await addMx(lab, { host: '127.0.0.3', cert: cert2, requireTls: true });
    }, rt);
    assert.deepEqual(out.map((o) => o.status), ['sent', 'sent']);
    assert.equal(mx1.stats.mailFrom, 0);
    assert.equal(mx2.stats.messages.length, 1);
    assert.ok(events.some((e) => e.event === 'host-skipped' && /does not offer REQUIRETLS/.test(String(e.reason))));
  });

  test('no host offers REQUIRETLS: bounced 5.7.30 once every host was tried, nothing sent', async () => {
    let mx1!: MxServer; let mx2!: MxServer;
    const { out } = await deliver((p) => zones(p), async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      mx2 = await addMx(lab, { host: '127.0.0.3', cert: cert2 });
    }, rt);
    assert.deepEqual(out.map((o) => [o.status, o.dsn]), [['bounced', '5.7.30'], ['bounced', '5.7.30']]);
    assert.equal(mx1.stats.mailFrom + mx2.stats.mailFrom, 0);
  });

  test('hosts without TLSA (no DANE authentication) are never connected to: bounced 5.7.30', async () => {
    let mx1!: MxServer;
    const { out } = await deliver((p) => zones(p, { tlsa1: false, tlsa2: false }), async (lab) => { mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1, requireTls: true }); }, rt);
    assert.deepEqual(out.map((o) => [o.status, o.dsn]), [['bounced', '5.7.30'], ['bounced', '5.7.30']]);
    assert.equal(mx1.stats.connections, 0);
  });

  test('REQUIRETLS refused by one host, the other unreachable: deferred (soft), never sent', async () => {
    const { out } = await deliver((p) => zones(p), async (lab) => { await addMx(lab, { host: '127.0.0.2', cert: cert1 }); }, rt);
    assert.deepEqual(out.map((o) => o.status), ['deferred', 'deferred']);
  });
});

describe('nodemailer finds extensions by searching the whole EHLO reply: we read the keywords', () => {
  test('a host named mx-requiretls-dsn that offers neither gets no REQUIRETLS message (5.7.30) and no DSN parameters', async () => {
    let mx!: MxServer;
    const name = 'mx-requiretls-dsn.dane.test';
    const rt = await deliver((p) => zones(p), async (lab) => { mx = await addMx(lab, { host: '127.0.0.2', cert: cert1, dsn: false, name }); }, (d) => ({ ...d, requireTls: true }));
    assert.ok(rt.out.every((o) => o.status !== 'sent'), 'never sent');
    assert.equal(mx.stats.mailFrom, 0, 'REQUIRETLS never sent to it');
    assert.ok(rt.events.some((e) => e.event === 'host-skipped' && /does not offer REQUIRETLS/.test(String(e.reason))));
    const plain = await deliver((p) => zones(p), async (lab) => { mx = await addMx(lab, { host: '127.0.0.2', cert: cert1, dsn: false, name }); }, withDsn);
    assert.deepEqual(plain.out.map((o) => [o.status, o.hopOffersDsn]), [['sent', false], ['sent', false]]);
    assert.deepEqual(mx.stats.messages[0]?.envelope?.rcptDsn, [null, null], 'no NOTIFY/ORCPT (they would be refused)');
  });
});

describe('RFC 8689 §4.2: TLS-Required: No (tls.honor_tls_required_no)', () => {
  test('a DANE host with a wrong key: the message with TLS-Required: No is delivered at level may, logged', async () => {
    let mx!: MxServer;
    const { out, events } = await deliver((p) => zones(p, { tlsa2: false }), async (lab) => { mx = await addMx(lab, { host: '127.0.0.2', cert: cert2 }); }, (d) => ({ ...d, tlsOptional: true }));
    assert.deepEqual(out.map((o) => o.status), ['sent', 'sent']);
    assert.equal(mx.stats.messages[0]?.secure, true, 'TLS still used when offered');
    assert.ok(events.some((e) => e.event === 'tls-required-no'));
  });

  test('without tlsOptional the same host is not used (C16: never sent, deferred)', async () => {
    let mx!: MxServer;
    const { out, events } = await deliver((p) => zones(p, { tlsa2: false }), async (lab) => { mx = await addMx(lab, { host: '127.0.0.2', cert: cert2 }); }, (d) => d);
    assert.deepEqual(out.map((o) => o.status), ['deferred', 'deferred']);
    assert.equal(mx.stats.mailFrom, 0);
    assert.ok(events.some((e) => e.event === 'host-skipped' && /not verified/.test(String(e.reason))));
  });
});
