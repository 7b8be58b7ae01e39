/**
 * Issue 19 item 3: every outbound wait has a total deadline. A hostile MX
 * (src/lab/hostile-mx.ts) misbehaves at one stage; with small configured
 * deadlines (0.4 s) and a long idle timeout (30 s, so only a deadline can end
 * a drip), each case must end as a deferral (4.4.2, or 4.7.5 for a TLS
 * failure) naming the stage, with no message delivered, nothing sent in
 * plaintext (C14) and no plaintext retry (C33). Each test is bounded by its
 * node:test timeout, far below the idle timeout: a hang fails it.
 */
import type { TlsLevel } from '../../src/core/tls-level.ts';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tlsaDataFor } from '../../src/core/tlsa.ts';
import { createHostileCerts, startHostileMx, type HostileAction, type HostileBehaviour, type HostileMx, type HostileStage } from '../../src/lab/hostile-mx.ts';
import { createDeliverer } from '../../src/outbound/create-deliverer.ts';
import type { RecipientOutcome } from '../../src/queue/deliverer.ts';
import { collectingLogger, job, startLab, testConfig, tlsa, type Lab } from './helpers.ts';

const D = 0.4; // seconds, every stage deadline
const BOUND = { timeout: 8000 }; // far below the 30 s idle timeout

let lab: Lab;
let mx: HostileMx;

before(async () => {
  const certs = await createHostileCerts('mx1.dane.test');
  lab = await startLab([]);
  const port = lab.port;
  lab.resolver.setZones([
    {
      origin: 'dane.test', signed: true, records: [
        { name: 'dane.test', type: 'MX', data: { preference: 10, exchange: 'mx1.dane.test' } },
        { name: 'mx1.dane.test', type: 'A', data: '127.0.0.2' },
        { name: `_${port}._tcp.mx1.dane.test`, type: 'TLSA', data: tlsa(3, 1, 1, tlsaDataFor(certs.good.der, 1, 1)) },
      ],
    },
    { origin: 'plain.test', signed: false, records: [
      { name: 'plain.test', type: 'MX', data: { preference: 10, exchange: 'mx.plain.test' } },
      { name: 'mx.plain.test', type: 'A', data: '127.0.0.2' },
    ] },
  ]);
  mx = await startHostileMx({ host: '127.0.0.2', port: lab.port, certs });
});
after(async () => { await mx.close(); await lab.close(); });

async function deliver(b: HostileBehaviour, domain = 'dane.test', level: TlsLevel = 'dane'): Promise<RecipientOutcome> {
  mx.setBehaviour(b);
  const { logger } = collectingLogger();
  const config = testConfig(lab.port, {
    tls: { security_level: level },
    delivery: {
      port: lab.port, connect_timeout: 1, command_timeout: 30, helo_timeout: D, starttls_timeout: D, mail_timeout: D,
      rcpt_timeout: D, data_init_timeout: D, data_xfer_timeout: D, data_done_timeout: D, rset_timeout: D, quit_timeout: D,
    },
  });
  const d = await createDeliverer(config, { logger, dns: lab.dns });
  try {
    const out = await d.deliver(job(domain, [`a@${domain}`]));
    assert.equal(out.length, 1);
    return out[0] as RecipientOutcome;
  } finally {
    await d.close();
  }
}

const WHILE: Record<HostileStage, string> = {
  greeting: 'receiving the initial server greeting', ehlo: 'performing the EHLO handshake',
  starttls: 'performing the STARTTLS handshake', handshake: 'performing the TLS handshake',
  'ehlo-tls': 'performing the EHLO handshake', mail: 'sending MAIL FROM', rcpt: 'sending RCPT TO',
  data: 'sending DATA command', final: 'sending message body',
};

/** Deferred, never bounced; nothing in plaintext; a message reached the MX only when it misbehaved after the dot. */
function assertNoDelivery(o: RecipientOutcome, stage: HostileStage, before: { messages: number; plainMail: number }): void {
  assert.equal(o.status, 'deferred', `${o.status} ${o.dsn} ${o.diagnostic}`);
  assert.equal(mx.stats.plainMail, before.plainMail, 'no MAIL FROM in plaintext (C14)');
  assert.equal(mx.stats.messages.length - before.messages, stage === 'final' ? 1 : 0);
  assert.ok(mx.stats.messages.every((m) => m.secure && m.goodLeaf), 'only DANE-verified TLS sessions carried a message');
}

const snapshot = () => ({ messages: mx.stats.messages.length, plainMail: mx.stats.plainMail, connections: mx.stats.connections });

describe('stage deadlines: slow drip and silence end as 4.4.2 timeouts at that stage', () => {
  const stages: HostileStage[] = ['greeting', 'ehlo', 'starttls', 'handshake', 'ehlo-tls', 'mail', 'rcpt', 'data', 'final'];
  for (const action of ['drip', 'silence'] as HostileAction[]) {
    for (const stage of stages) {
      if (stage === 'handshake' && action === 'drip') continue; // dripped bytes are not a TLS record: covered by garbage
      test(`issue 19: ${action} at ${stage} is deferred 4.4.2 "timed out while ${WHILE[stage]}"`, BOUND, async () => {
        const s = snapshot();
        const o = await deliver({ stage, action });
        assertNoDelivery(o, stage, s);
        assert.equal(o.dsn, '4.4.2');
        assert.equal(o.diagnostic, `conversation with mx1.dane.test[127.0.0.2] timed out while ${WHILE[stage]}`);
        assert.equal(mx.stats.connections - s.connections, 1, 'one connection, no retry');
      });
    }
  }
});

describe('endless continuations, resets and garbage end the attempt', () => {
  for (const stage of ['greeting', 'ehlo', 'starttls', 'ehlo-tls', 'rcpt', 'final'] as HostileStage[]) {
    test(`issue 19: an endless continuation at ${stage} is cut at max_reply_size or its deadline and deferred`, BOUND, async () => {
      const s = snapshot();
      const o = await deliver({ stage, action: 'continuation' });
      assertNoDelivery(o, stage, s);
      assert.equal(o.dsn, '4.4.2');
      assert.match(o.diagnostic, new RegExp(`^(lost connection with|conversation with) mx1\\.dane\\.test\\[127\\.0\\.0\\.2\\] (timed out )?while ${WHILE[stage]}$`));
    });
  }
  for (const stage of ['greeting', 'ehlo', 'starttls', 'handshake', 'ehlo-tls', 'mail', 'rcpt', 'data', 'final'] as HostileStage[]) {
    test(`issue 19: a reset at ${stage} is deferred, lost connection`, BOUND, async () => {
      const s = snapshot();
      const o = await deliver({ stage, action: 'reset' });
      assertNoDelivery(o, stage, s);
      assert.match(o.dsn, /^4\./);
    });
  }
  test('C14: garbage instead of a TLS handshake is a handshake failure, deferred 4.7.5, no plaintext', BOUND, async () => {
    const s = snapshot();
    const o = await deliver({ stage: 'handshake', action: 'garbage' });
    assertNoDelivery(o, 'handshake', s);
    assert.equal(o.dsn, '4.7.5');
    assert.match(o.diagnostic, /Cannot start TLS: handshake failure/);
  });
  test('C32: garbage for the EHLO inside TLS is deferred, nothing sent', BOUND, async () => {
    const s = snapshot();
    const o = await deliver({ stage: 'ehlo-tls', action: 'garbage' });
    assertNoDelivery(o, 'ehlo-tls', s);
  });
});

describe('hostile certificate chains', () => {
  test('C22: a big chain behind the good leaf still verifies (DANE-EE looks at the leaf only)', BOUND, async () => {
    const o = await deliver({ chain: 'big' });
    assert.equal(o.status, 'sent', o.diagnostic);
  });
  test('C14: a chain over the TLS client limit is a handshake failure, deferred 4.7.5', BOUND, async () => {
    const s = snapshot();
    const o = await deliver({ chain: 'huge' });
    assertNoDelivery(o, 'greeting', s);
    assert.equal(o.dsn, '4.7.5');
  });
  for (const chain of ['impostor', 'misordered'] as const) {
    test(`C16: ${chain} chain (good key not the leaf) is not verified, deferred 4.7.5, MAIL FROM never sent`, BOUND, async () => {
      const s = snapshot();
      const o = await deliver({ chain });
      assertNoDelivery(o, 'greeting', s);
      assert.equal(o.dsn, '4.7.5');
      assert.match(o.diagnostic, /Server certificate not verified/);
    });
  }
});

describe('no plaintext and no reuse after a deadline', () => {
  test('C33: at level may, a TLS handshake that never completes is a timeout, not a plaintext retry', BOUND, async () => {
    const s = snapshot();
    const o = await deliver({ stage: 'handshake', action: 'silence' }, 'plain.test', 'may');
    assert.equal(o.status, 'deferred');
    assert.equal(o.diagnostic, 'conversation with mx.plain.test[127.0.0.2] timed out while performing the TLS handshake');
    assert.equal(mx.stats.connections - s.connections, 1, 'no second, plaintext connection');
    assert.equal(mx.stats.plainMail, s.plainMail);
  });
  test('issue 19: with PIPELINING, a dripped MAIL reply is still a timeout at MAIL FROM', BOUND, async () => {
    const s = snapshot();
    const o = await deliver({ stage: 'mail', action: 'drip', pipelining: true });
    assertNoDelivery(o, 'mail', s);
    assert.equal(o.diagnostic, 'conversation with mx1.dane.test[127.0.0.2] timed out while sending MAIL FROM');
  });
  test('a well-behaved MX with the same small deadlines gets the message (the deadlines do not fire on a normal session)', BOUND, async () => {
    const s = snapshot();
    const o = await deliver({ pipelining: true });
    assert.equal(o.status, 'sent', o.diagnostic);
    assert.equal(mx.stats.messages.length - s.messages, 1);
  });
});
