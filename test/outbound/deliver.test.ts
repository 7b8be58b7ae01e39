/**
 * The delivery engine end to end on loopback: lab resolver (signed and
 * unsigned zones), smtp-server MX instances on 127.0.0.2/127.0.0.3 with lab
 * certificates, the real DNS client and createDeliverer.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSelfSigned, type IssuedCert } from '../../src/lab/certs.ts';
import type { LabRecord, LabZone } from '../../src/lab/lab-resolver.ts';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import type { RecipientOutcome } from '../../src/queue/deliverer.ts';
import type { RelayConfigInput } from '../../src/config/schema.ts';
import { addMx, collectingLogger, job, startLab, testConfig, tlsa, type Lab } from './helpers.ts';

let cert1: IssuedCert;
let cert2: IssuedCert;
before(async () => {
  cert1 = await createSelfSigned({ dnsNames: ['mx1.dane.test'] });
  cert2 = await createSelfSigned({ dnsNames: ['mx2.dane.test'] });
});

const spki = (c: IssuedCert): Uint8Array => tlsaDataFor(c.der, 1, 1);
function oneDigitChanged(d: Uint8Array): Uint8Array {
  const out = new Uint8Array(d);
  out[0] = (out[0] ?? 0) ^ 0x01;
  return out;
}

interface ZoneOpts {
  port: number;
  mx?: Array<[number, string]>;
  tlsa1?: LabRecord['data'] | null;
  tlsa2?: LabRecord['data'] | null;
  extra?: LabRecord[];
  servfail?: Array<{ name: string; type: string }>;
  bogus?: boolean;
}

function zones(z: ZoneOpts): LabZone[] {
  const mx = z.mx ?? [[10, 'mx1.dane.test'], [20, 'mx2.dane.test']];
  const records: LabRecord[] = [
    ...mx.map(([preference, exchange]) => ({ name: 'dane.test', type: 'MX' as const, data: { preference, exchange } })),
    { name: 'mx1.dane.test', type: 'A', data: '127.0.0.2' },
    { name: 'mx2.dane.test', type: 'A', data: '127.0.0.3' },
    ...(z.tlsa1 ? [{ name: `_${z.port}._tcp.mx1.dane.test`, type: 'TLSA' as const, data: z.tlsa1 }] : []),
    ...(z.tlsa2 ? [{ name: `_${z.port}._tcp.mx2.dane.test`, type: 'TLSA' as const, data: z.tlsa2 }] : []),
    ...(z.extra ?? []),
  ];
  return [
    { origin: 'dane.test', signed: true, records, ...(z.servfail ? { servfail: z.servfail } : {}), ...(z.bogus ? { bogus: true } : {}) },
    { origin: 'plain.test', signed: false, records: [{ name: 'mx.plain.test', type: 'A', data: '127.0.0.2' }] },
    { origin: 'nullmx.test', signed: true, records: [{ name: 'nullmx.test', type: 'MX', data: { preference: 0, exchange: '.' } }] },
  ];
}

interface Run { lab: Lab; out: RecipientOutcome[]; events: Array<Record<string, unknown>> }

/** Start a lab, let `setup` add servers, deliver one job, close everything. */
function run(z: Omit<ZoneOpts, 'port'>, setup: (lab: Lab) => Promise<void>, rcpts = ['a@dane.test'], domain = 'dane.test', extra?: (port: number) => Partial<RelayConfigInput>): Promise<Run> {
  return runWithPort(() => z, setup, rcpts, domain, extra);
}

const byEvent = (events: Array<Record<string, unknown>>, e: string) => events.filter((x) => x.event === e);
const first = (o: RecipientOutcome[]): RecipientOutcome => { assert.equal(o.length, 1); return o[0] as RecipientOutcome; };

describe('delivery engine on loopback', () => {
  test('C22: verified delivery with 3 1 1', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ tlsa1: tlsa(3, 1, 1, spki(cert1)) }, async (lab) => { mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 }); });
    const o = first(r.out);
    assert.equal(o.status, 'sent');
    assert.equal(o.dsn, '2.6.0', 'the server\'s enhanced code is kept');
    assert.match(o.relay ?? '', /^mx1\.dane\.test\[127\.0\.0\.2\]:\d+$/);
    assert.equal(mx1.stats.messages.length, 1);
    assert.equal(mx1.stats.messages[0]?.secure, true);
    const tls = byEvent(r.events, 'tls')[0] as { tls: { state: string; feature: string }; dane: { result: string; match: string }; msg: string };
    assert.equal(tls.tls.state, 'Verified');
    assert.equal(tls.tls.feature, 'dane');
    assert.equal(tls.dane.result, 'ok');
    assert.match(tls.dane.match, /^3 1 1 [0-9a-f]{64} depth=0$/);
    assert.match(tls.msg, /^Verified TLS connection established to mx1\.dane\.test\[127\.0\.0\.2\]:\d+: TLSv1\.3 with cipher/);
    const del = byEvent(r.events, 'delivery')[0] as { status: string; msg: string; tls: { state: string } };
    assert.equal(del.status, 'sent');
    assert.equal(del.tls.state, 'Verified');
    assert.match(del.msg, /^to=<a@dane\.test>, relay=mx1\.dane\.test\[127\.0\.0\.2\]:\d+, delay=[\d.]+, delays=[\d.]+\/0\/[\d.]+\/[\d.]+, tls=dane, dsn=2\.6\.0, status=sent \(250 /);
  });

  test('the message arrives byte for byte and dot-transparent (RFC 5321 §4.5.2), sent from memory or from a stream', async () => {
    const lab = await startLab([]);
    try {
      lab.resolver.setZones(zones({ mx: [[10, 'mx1.dane.test']], tlsa1: tlsa(3, 1, 1, spki(cert1)), port: lab.port }));
      const mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      const d = await createDeliverer(testConfig(lab.port), { logger: collectingLogger().logger, dns: lab.dns });
      try {
        const body = 'Subject: dots\r\n\r\n.\r\n..two\r\n.one\r\nend\r\n';
        const fromMemory = { ...job('dane.test', ['a@dane.test'], body), openBody: () => Buffer.from(body) };
        const fromStream = job('dane.test', ['b@dane.test'], body);
        assert.equal(first(await d.deliver(fromMemory)).status, 'sent');
        assert.equal(first(await d.deliver(fromStream)).status, 'sent');
      } finally {
        await d.close();
      }
      assert.deepEqual(mx1.stats.messages.map((m) => m.data), ['Subject: dots\r\n\r\n.\r\n..two\r\n.one\r\nend\r\n', 'Subject: dots\r\n\r\n.\r\n..two\r\n.one\r\nend\r\n']);
    } finally {
      await lab.close();
    }
  });

  test('SMTPUTF8 (RFC 6531 §3.4): a non-ASCII address to a server that does not offer it bounces 5.6.7, nothing sent', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ mx: [[10, 'mx1.dane.test']], tlsa1: tlsa(3, 1, 1, spki(cert1)) }, async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1, smtputf8: false });
    }, ['jörg@dane.test']);
    const o = first(r.out);
    assert.equal(o.status, 'bounced');
    assert.equal(o.dsn, '5.6.7');
    assert.match(o.diagnostic, /^SMTPUTF8 is required, but was not offered by host mx1\.dane\.test\[127\.0\.0\.2\]$/);
    assert.equal(mx1.stats.mailFrom, 0);
  });

  test('SMTPUTF8: a non-ASCII address goes through to a server that offers it', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ mx: [[10, 'mx1.dane.test']], tlsa1: tlsa(3, 1, 1, spki(cert1)) }, async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
    }, ['jörg@dane.test']);
    assert.equal(first(r.out).status, 'sent');
    assert.deepEqual(mx1.stats.messages[0]?.to, ['jörg@dane.test']);
  });

  test('C16: TLSA mismatch on the first MX → the next MX with a matching key is used', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    let mx2!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ tlsa1: tlsa(3, 1, 1, oneDigitChanged(spki(cert1))), tlsa2: tlsa(3, 1, 1, spki(cert2)) }, async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      mx2 = await addMx(lab, { host: '127.0.0.3', cert: cert2 });
    });
    assert.equal(first(r.out).status, 'sent');
    assert.match(first(r.out).relay ?? '', /^mx2\.dane\.test/);
    assert.equal(mx1.stats.tlsHandshakes, 1, 'mx1 was reached over TLS');
    assert.equal(mx1.stats.mailFrom, 0, 'mx1 never saw MAIL FROM');
    assert.equal(mx2.stats.messages.length, 1);
    const skipped = byEvent(r.events, 'host-skipped');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]?.reason, 'Server certificate not verified');
    assert.equal(skipped[0]?.dsn, '4.7.5');
  });

  test('C16: TLSA mismatch and no other MX → nothing delivered, deferred 4.7.5', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ mx: [[10, 'mx1.dane.test']], tlsa1: tlsa(3, 1, 1, oneDigitChanged(spki(cert1))) }, async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
    });
    const o = first(r.out);
    assert.equal(o.status, 'deferred');
    assert.equal(o.dsn, '4.7.5');
    assert.match(o.diagnostic, /Server certificate not verified/);
    assert.equal(mx1.stats.mailFrom, 0);
    assert.equal(mx1.stats.messages.length, 0);
  });

  test('C14: STARTTLS not offered while usable TLSA exists → deferred 4.7.4, no MAIL FROM', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ mx: [[10, 'mx1.dane.test']], tlsa1: tlsa(3, 1, 1, spki(cert1)) }, async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1, starttls: false });
    });
    const o = first(r.out);
    assert.equal(o.status, 'deferred');
    assert.equal(o.dsn, '4.7.4');
    assert.match(o.diagnostic, /^TLS is required, but was not offered by host mx1\.dane\.test\[127\.0\.0\.2\]$/);
    assert.equal(mx1.stats.connections, 1);
    assert.equal(mx1.stats.mailFrom, 0);
  });

  test('C15: only unusable TLSA records → delivered, over TLS only', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const unusable = tlsa(1, 1, 1, spki(cert1)); // PKIX-EE: unusable for SMTP (C21)
    const r = await run({ mx: [[10, 'mx1.dane.test']], tlsa1: unusable }, async (lab) => { mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 }); });
    assert.equal(first(r.out).status, 'sent');
    assert.equal(mx1.stats.messages[0]?.secure, true);
    const tls = byEvent(r.events, 'tls')[0] as { tls: { level: string; feature: string } };
    assert.equal(tls.tls.level, 'encrypt');
    assert.equal(tls.tls.feature, 'dane:encrypt');
  });

  test('C15: only unusable TLSA records and no STARTTLS → deferred, never plaintext', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ mx: [[10, 'mx1.dane.test']], tlsa1: tlsa(1, 1, 1, spki(cert1)) }, async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1, starttls: false });
    });
    assert.equal(first(r.out).status, 'deferred');
    assert.equal(first(r.out).dsn, '4.7.4');
    assert.equal(mx1.stats.mailFrom, 0);
  });

  test('C4: bogus TLSA → host skipped, next MX used; alone → deferred 4.7.5 without connecting', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    let mx2!: Awaited<ReturnType<typeof addMx>>;
    const setup = async (lab: Lab): Promise<void> => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 });
      mx2 = await addMx(lab, { host: '127.0.0.3', cert: cert2 });
    };
    const sf = (port: number) => [{ name: `_${port}._tcp.mx1.dane.test`, type: 'TLSA' }];
    const r = await runWithPort((port) => ({ servfail: sf(port), tlsa2: tlsa(3, 1, 1, spki(cert2)) }), setup);
    assert.equal(first(r.out).status, 'sent');
    assert.match(first(r.out).relay ?? '', /^mx2\./);
    assert.equal(mx1.stats.connections, 0, 'C4: a host with a failed TLSA lookup is not contacted at all');
    const skipped = byEvent(r.events, 'host-skipped')[0] as { reason: string; dsn: string };
    assert.match(skipped.reason, /^TLSA lookup error for mx1\.dane\.test:\d+$/);
    assert.equal(skipped.dsn, '4.7.5');
    assert.equal(mx2.stats.messages.length, 1);

    const alone = await runWithPort((port) => ({ mx: [[10, 'mx1.dane.test']], servfail: sf(port) }), async (lab) => { mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 }); });
    assert.equal(first(alone.out).status, 'deferred');
    assert.equal(first(alone.out).dsn, '4.7.5');
    assert.match(first(alone.out).diagnostic, /^TLSA lookup error for mx1\.dane\.test:\d+$/);
    assert.equal(mx1.stats.connections, 0);
  });

  test('C3: bogus MX → deferred 4.4.3, no address lookups', async () => {
    const r = await run({ bogus: true }, async () => undefined);
    assert.equal(first(r.out).status, 'deferred');
    assert.equal(first(r.out).dsn, '4.4.3');
    const types = r.lab.resolver.queries().map((q) => q.type);
    assert.deepEqual([...new Set(types)], ['MX'], 'C3: no fall-back to address records');
  });

  test('no TLSA → opportunistic (may) delivery over TLS', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ mx: [[10, 'mx1.dane.test']] }, async (lab) => { mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 }); });
    assert.equal(first(r.out).status, 'sent');
    assert.equal(mx1.stats.messages[0]?.secure, true);
    const tls = byEvent(r.events, 'tls')[0] as { tls: { level: string; state: string }; dane: { result: string } };
    assert.equal(tls.tls.level, 'may');
    assert.equal(tls.tls.state, 'Untrusted');
    assert.equal(tls.dane.result, 'not_applicable');
  });

  test('C10: insecure address records → no TLSA query is made', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ mx: [[10, 'mx.plain.test']] }, async (lab) => { mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1 }); });
    assert.equal(first(r.out).status, 'sent');
    assert.equal(mx1.stats.messages.length, 1);
    const tlsaQueries = r.lab.resolver.queries().filter((q) => q.type === 'TLSA');
    assert.deepEqual(tlsaQueries, []);
    const tls = byEvent(r.events, 'tls')[0] as { dane: { result: string } };
    assert.equal(tls.dane.result, 'insecure_chain');
  });

  test('C29: null MX → bounced 5.1.10', async () => {
    const r = await run({}, async () => undefined, ['x@nullmx.test'], 'nullmx.test');
    assert.equal(first(r.out).status, 'bounced');
    assert.equal(first(r.out).dsn, '5.1.10');
    assert.equal(r.lab.resolver.queries().filter((q) => q.type !== 'MX').length, 0);
  });

  test('NXDOMAIN → bounced 5.1.2', async () => {
    const r = await run({}, async () => undefined, ['x@nope.dane.test'], 'nope.dane.test');
    assert.equal(first(r.out).status, 'bounced');
    assert.equal(first(r.out).dsn, '5.1.2');
  });

  test('RCPT replies: 5xx bounced with the remote reply, 4xx deferred, others sent', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const rcpt = (a: string) => a.startsWith('gone@') ? { code: 550, text: 'No such user' } : a.startsWith('busy@') ? { code: 450, text: 'Mailbox busy' } : null;
    const r = await run({ tlsa1: tlsa(3, 1, 1, spki(cert1)) }, async (lab) => { mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1, rcpt }); },
      ['ok@dane.test', 'gone@dane.test', 'busy@dane.test']);
    const [ok, gone, busy] = r.out;
    assert.equal(ok?.status, 'sent');
    assert.equal(gone?.status, 'bounced');
    assert.equal(gone?.dsn, '5.1.1');
    assert.equal(gone?.remoteReply, '550 5.1.1 No such user');
    assert.match(gone?.diagnostic ?? '', /^host mx1\.dane\.test\[127\.0\.0\.2\] said: 550 5\.1\.1 No such user \(in reply to RCPT TO command\)$/);
    assert.equal(busy?.status, 'deferred');
    assert.equal(busy?.dsn, '4.2.1');
    assert.deepEqual(mx1.stats.messages[0]?.to, ['ok@dane.test']);
  });

  test('all recipients refused with 5xx → all bounced, nothing sent', async () => {
    let mx1!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ tlsa1: tlsa(3, 1, 1, spki(cert1)) }, async (lab) => {
      mx1 = await addMx(lab, { host: '127.0.0.2', cert: cert1, rcpt: () => ({ code: 550, text: 'Relay denied' }) });
    }, ['a@dane.test', 'b@dane.test']);
    assert.deepEqual(r.out.map((o) => [o.status, o.dsn]), [['bounced', '5.1.1'], ['bounced', '5.1.1']]);
    assert.equal(mx1.stats.messages.length, 0);
  });

  test('C9: a [bracketed] transport next hop skips MX lookup and is DANE-verified like a secure MX name', async () => {
    let mx2!: Awaited<ReturnType<typeof addMx>>;
    const r = await run({ tlsa2: tlsa(3, 1, 1, spki(cert2)) }, async (lab) => { mx2 = await addMx(lab, { host: '127.0.0.3', cert: cert2 }); },
      ['x@elsewhere.example'], 'elsewhere.example', (port) => ({ delivery: { port, transport: { 'elsewhere.example': '[mx2.dane.test]' } } }));
    assert.equal(first(r.out).status, 'sent');
    assert.equal(mx2.stats.messages.length, 1);
    assert.deepEqual(r.lab.resolver.queries().filter((q) => q.type === 'MX'), [], 'no MX lookup for a bracketed next hop');
    const tls = byEvent(r.events, 'tls')[0] as { tls: { state: string } };
    assert.equal(tls.tls.state, 'Verified');
  });
});

/** Like run(), but the zone options may depend on the shared port. */
async function runWithPort(
  z: (port: number) => Omit<ZoneOpts, 'port'>, setup: (lab: Lab) => Promise<void>, rcpts = ['a@dane.test'], domain = 'dane.test',
  extra?: (port: number) => Partial<RelayConfigInput>,
): Promise<Run> {
  const lab = await startLab([]);
  try {
    lab.resolver.setZones(zones({ ...z(lab.port), port: lab.port }));
    await setup(lab);
    const { logger, events } = collectingLogger();
    const d = await createDeliverer(testConfig(lab.port, extra?.(lab.port)), { logger, dns: lab.dns });
    try {
      return { lab, out: await d.deliver(job(domain, rcpts)), events };
    } finally {
      await d.close();
    }
  } finally {
    await lab.close();
  }
}
