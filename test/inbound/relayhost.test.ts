/**
 * Inbound relayhost semantics: mail loops by hop count (RFC 5321 §6.3,
 * Postfix hopcount_limit), DSN parameters recorded (RFC 3461 §4.1–§4.4),
 * REQUIRETLS announced only inside TLS and recorded (RFC 8689 §4), and the
 * TLS-Required: No header recorded (RFC 8689 §5).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from '../../src/lab/certs.ts';
import type { QueueRecord } from '../../src/queue/record.ts';
import type { Spool } from '../../src/queue/spool.ts';
import { RawSmtp } from '../fixtures/smtp-client.ts';
import { withInbound } from './helpers.ts';

let files: { dir: string; cert: string; key: string };
before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-inbound-'));
  const cert = await createSelfSigned({ dnsNames: ['relay.test'] });
  files = { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  await writeFile(files.cert, cert.certPem);
  await writeFile(files.key, cert.keyPem);
});
after(async () => { await rm(files.dir, { recursive: true, force: true }); });

function withReceived(n: number): string {
  const hops = Array.from({ length: n }, (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Mon, 3 Nov 2026 10:00:00 +0000\r\n`).join('');
  return `${hops}From: a@src.test\r\nTo: b@dst.test\r\nSubject: loop\r\n\r\nhello\r\n.\r\n`;
}

async function queuedRecord(spool: Spool, reply: string): Promise<QueueRecord> {
  const id = /queued as ([0-9A-F]+)/.exec(reply)?.[1] ?? '';
  const read = await spool.readRecord('incoming', id);
  assert.equal(read.kind, 'ok', reply);
  if (read.kind !== 'ok') throw new Error('no record');
  return read.record;
}

describe('RFC 5321 §6.3: mail loops (inbound.hopcount_limit, Postfix hopcount_limit)', () => {
  test('a message that already has hopcount_limit Received: headers gets "554 5.4.6 Too many hops", nothing queued', async () => {
    await withInbound({ inbound: { hopcount_limit: 50 } }, async ({ port, spool }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        assert.equal(await c.send('a@src.test', ['b@dst.test'], withReceived(60)), '554 5.4.6 Too many hops');
        assert.equal(await c.send('a@src.test', ['b@dst.test'], withReceived(50)), '554 5.4.6 Too many hops');
        assert.deepEqual(await spool.list('incoming'), []);
        assert.match(await c.cmd('NOOP'), /^250/, 'the session goes on');
      } finally {
        c.close();
      }
    });
  });

  test('one hop fewer than the limit is accepted (ours makes it the limit, not more)', async () => {
    await withInbound({ inbound: { hopcount_limit: 50 } }, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        assert.match(await c.send('a@src.test', ['b@dst.test'], withReceived(49)), /^250 2\.0\.0 Ok: queued as /);
      } finally {
        c.close();
      }
    });
  });
});

describe('RFC 3461 §4: DSN parameters are recorded with the message', () => {
  test('NOTIFY and ORCPT per recipient, RET and ENVID per message (xtext decoded)', async () => {
    await withInbound({}, async ({ port, spool }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        await c.cmd('EHLO client.test');
        assert.match(await c.cmd('MAIL FROM:<a@src.test> RET=FULL ENVID=QQ+2B314'), /^250/);
        assert.match(await c.cmd('RCPT TO:<b@dst.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;B+2Bx@dst.test'), /^250/);
        assert.match(await c.cmd('RCPT TO:<c@dst.test> NOTIFY=NEVER'), /^250/);
        assert.match(await c.cmd('RCPT TO:<d@dst.test>'), /^250/);
        assert.match(await c.cmd('DATA'), /^354/);
        c.write('Subject: dsn\r\n\r\nhi\r\n.\r\n');
        const r = await queuedRecord(spool, await c.reply());
        assert.equal(r.ret, 'FULL');
        assert.equal(r.envid, 'QQ+314');
        assert.deepEqual(r.recipients.map((x) => [x.address, x.notify, x.orcpt]), [
          ['b@dst.test', ['SUCCESS', 'FAILURE'], 'rfc822;B+x@dst.test'], ['c@dst.test', ['NEVER'], undefined], ['d@dst.test', undefined, undefined],
        ]);
        assert.equal(r.requireTls, undefined);
      } finally {
        c.close();
      }
    });
  });

  test('NOTIFY=NEVER combined with another value is refused 501 (RFC 3461 §4.1)', async () => {
    await withInbound({}, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        await c.cmd('EHLO client.test');
        await c.cmd('MAIL FROM:<a@src.test>');
        assert.match(await c.cmd('RCPT TO:<b@dst.test> NOTIFY=NEVER,SUCCESS'), /^501 /);
      } finally {
        c.close();
      }
    });
  });
});

describe('RFC 8689 §4: REQUIRETLS on the inbound side', () => {
  test('not announced without inbound TLS, and MAIL FROM ... REQUIRETLS is refused there', async () => {
    await withInbound({}, async ({ port }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        assert.doesNotMatch(await c.cmd('EHLO client.test'), /REQUIRETLS/);
        assert.match(await c.cmd('MAIL FROM:<a@src.test> REQUIRETLS'), /^5\d\d /);
      } finally {
        c.close();
      }
    });
  });

  test('with inbound TLS: not announced before STARTTLS, announced after; REQUIRETLS is recorded', async () => {
    await withInbound({ inbound: { tls: { cert: files.cert, key: files.key } } }, async ({ port, spool }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        assert.doesNotMatch(await c.cmd('EHLO client.test'), /REQUIRETLS/);
        await c.startTls();
        assert.match(await c.cmd('EHLO client.test'), /^250[- ]REQUIRETLS$/m);
        assert.match(await c.cmd('MAIL FROM:<a@src.test> REQUIRETLS'), /^250/);
        assert.match(await c.cmd('RCPT TO:<b@dst.test>'), /^250/);
        assert.match(await c.cmd('DATA'), /^354/);
        c.write('TLS-Required: No\r\nSubject: x\r\n\r\nhi\r\n.\r\n');
        const r = await queuedRecord(spool, await c.reply());
        assert.equal(r.requireTls, true);
        assert.equal(r.tlsRequiredNo, undefined, 'RFC 8689 §4.1: the header is ignored when REQUIRETLS was given');
      } finally {
        c.close();
      }
    });
  });

  test('RFC 8689 §5: a TLS-Required: No header is recorded (acted on only if the operator enabled it)', async () => {
    await withInbound({}, async ({ port, spool }) => {
      const c = await RawSmtp.connect(port);
      try {
        await c.greeting;
        const r = await queuedRecord(spool, await c.send('a@src.test', ['b@dst.test'], 'Subject: x\r\nTLS-Required: No\r\n\r\nhi\r\n.\r\n'));
        assert.equal(r.tlsRequiredNo, true);
      } finally {
        c.close();
      }
    });
  });
});
