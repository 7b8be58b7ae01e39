import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { hashPassword, parseUsers, verifyPassword } from '../../src/config/users-file.ts';
import { InboundServer } from '../../src/inbound/server.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createSelfSigned } from '../../src/lab/certs.ts';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { tempSpool } from '../queue/helpers.ts';

const plain = (user: string, pass: string): string => Buffer.from(`\0${user}\0${pass}`).toString('base64');

describe('inbound STARTTLS and AUTH', () => {
  let dir = '';
  let files: { cert: string; key: string; users: string };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dane-relay-auth-'));
    const cert = await createSelfSigned({ dnsNames: ['relay.test'] });
    files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), users: join(dir, 'users') };
    await writeFile(files.cert, cert.certPem);
    await writeFile(files.key, cert.keyPem);
    await writeFile(files.users, `# relay users\n${await hashPassword('alice', 'correct horse', { N: 1024, r: 8, p: 1 })}\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function withAuthServer(fn: (port: number) => Promise<void>): Promise<void> {
    const spool = await tempSpool();
    const config = parseConfig({
      listen: ['127.0.0.1:0'],
      spool: spool.dir,
      myhostname: 'relay.test',
      mynetworks: ['127.0.0.1/32'],
      inbound: { tls: { cert: files.cert, key: files.key }, auth: { users_file: files.users } },
    });
    const server = new InboundServer({ config, spool: spool.spool, logger: silentLogger(), onQueued: () => undefined });
    try {
      const [addr] = await server.listen();
      await fn(addr?.port ?? 0);
    } finally {
      await server.close(100);
      await spool.cleanup();
    }
  }

  test('password hashes: scrypt lines verify the right password only; plaintext lines are refused', async () => {
    const users = parseUsers(await hashPassword('bob', 's3cret', { N: 1024, r: 8, p: 1 }));
    assert.equal(await verifyPassword(users, 'bob', 's3cret'), true);
    assert.equal(await verifyPassword(users, 'bob', 'wrong'), false);
    assert.equal(await verifyPassword(users, 'nobody', 's3cret'), false);
    assert.throws(() => parseUsers('bob:s3cret\n'), /line 1/);
  });

  test('AUTH is not offered before STARTTLS, is offered after it, and an authenticated client outside mynetworks may relay', async () => {
    await withAuthServer(async (port) => {
      const c = await RawSmtp.connect(port, { localAddress: '127.0.0.2' });
      try {
        await c.greeting;
        const ehlo = await c.cmd('EHLO outsider.test');
        assert.match(ehlo, /STARTTLS/);
        assert.doesNotMatch(ehlo, /AUTH/);
        assert.match(await c.cmd(`AUTH PLAIN ${plain('alice', 'correct horse')}`), /^5\d\d /);
        await c.startTls();
        const ehlo2 = await c.cmd('EHLO outsider.test');
        assert.match(ehlo2, /^250[- ]AUTH PLAIN LOGIN$/m);
        assert.doesNotMatch(ehlo2, /STARTTLS/);
        assert.match(await c.cmd(`AUTH PLAIN ${plain('alice', 'wrong')}`), /^535 5\.7\.8 /);
        assert.match(await c.cmd(`AUTH PLAIN ${plain('alice', 'correct horse')}`), /^235 /);
        assert.match(await c.send('alice@src.test', ['bob@dst.test'], simpleMessage()), /^250 2\.0\.0 Ok: queued as /);
      } finally {
        c.close();
      }
    });
  });

  test('without AUTH, a TLS client outside mynetworks is still denied relaying', async () => {
    await withAuthServer(async (port) => {
      const c = await RawSmtp.connect(port, { localAddress: '127.0.0.2' });
      try {
        await c.greeting;
        await c.cmd('EHLO outsider.test');
        await c.startTls();
        await c.cmd('EHLO outsider.test');
        await c.cmd('MAIL FROM:<x@outsider.test>');
        assert.equal(await c.cmd('RCPT TO:<v@dst.test>'), '554 5.7.1 Relay access denied');
      } finally {
        c.close();
      }
    });
  });
});
