/**
 * Issue 19 items 5 and 6 against a real listener on loopback: one client
 * cannot lock out another, stress shortens the idle timeout, a session ends
 * at the hard error limit, AUTH failures are rate-limited per client before
 * any password check, and a foreign PLAIN authzid is refused.
 * 127.0.0.1 is mynetworks, 127.0.0.2 and 127.0.0.3 are outside clients.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { hashPassword } from '../../src/config/users-file.ts';
import { InboundServer } from '../../src/inbound/server.ts';
import { createSelfSigned } from '../../src/lab/certs.ts';
import { RawSmtp, simpleMessage } from '../fixtures/smtp-client.ts';
import { tempSpool } from '../queue/helpers.ts';

interface Ctx {
  port: number;
  server: InboundServer;
  events: Array<Record<string, unknown>>;
  reconfigure: (inbound: Record<string, unknown>) => void;
}

async function withInbound(inbound: Record<string, unknown>, fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const { spool, dir, cleanup } = await tempSpool();
  const base = { listen: ['127.0.0.1:0'], spool: dir, myhostname: 'relay.test', mynetworks: ['127.0.0.1/32'] };
  const events: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) events.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const server = new InboundServer({ config: parseConfig({ ...base, inbound }), spool, logger: pino({ level: 'info' }, sink), onQueued: () => undefined });
  const clients: RawSmtp[] = [];
  try {
    const [addr] = await server.listen();
    await fn({ port: addr?.port ?? 0, server, events, reconfigure: (i) => server.reload(parseConfig({ ...base, inbound: i })) });
  } finally {
    for (const c of clients) c.close();
    await server.close(100);
    await cleanup();
  }
}

async function open(port: number, localAddress: string, n: number): Promise<{ clients: RawSmtp[]; greetings: string[] }> {
  const clients = await Promise.all(Array.from({ length: n }, () => RawSmtp.connect(port, { localAddress })));
  const greetings = await Promise.all(clients.map((c) => c.greeting.catch((e: Error) => `(${e.message})`)));
  return { clients, greetings };
}

describe('one client cannot lock out another (issue 19 item 5)', () => {
  test('an outside client holding its maximum of 50 connections gets 421 4.7.0 over it; a mynetworks client still gets 220 and 250', async () => {
    await withInbound({ max_clients: 100 }, async ({ port }) => {
      const outside = await open(port, '127.0.0.2', 60);
      try {
        const accepted = outside.greetings.filter((g) => g.startsWith('220 ')).length;
        const refused = outside.greetings.filter((g) => g === '421 4.7.0 relay.test Error: too many connections from 127.0.0.2');
        assert.equal(accepted, 50, 'client_connection_limit (50) connections are accepted');
        assert.equal(refused.length, 10, 'each connection over the limit gets 421 4.7.0');
        const local = await RawSmtp.connect(port, { localAddress: '127.0.0.1' });
        try {
          assert.match(await local.greeting, /^220 relay\.test ESMTP/);
          assert.match(await local.send('a@src.test', ['b@dst.test'], simpleMessage()), /^250 2\.0\.0 Ok: queued as /);
        } finally {
          local.close();
        }
      } finally {
        for (const c of outside.clients) c.close();
      }
    });
  });

  test('mynetworks is exempt by default; with client_limit_exceptions: [] it is limited too, and a reload applies the new limit', async () => {
    await withInbound({ client_connection_limit: 2 }, async ({ port, reconfigure }) => {
      const local = await open(port, '127.0.0.1', 4);
      try {
        assert.equal(local.greetings.filter((g) => g.startsWith('220 ')).length, 4);
        reconfigure({ client_connection_limit: 2, client_limit_exceptions: [] });
        const more = await open(port, '127.0.0.1', 1);
        more.clients[0]?.close();
        assert.equal(more.greetings[0], '421 4.7.0 relay.test Error: too many connections from 127.0.0.1');
      } finally {
        for (const c of local.clients) c.close();
      }
    });
  });

  test('under stress (80 % of max_clients) idle sessions get the short stress idle_timeout (421), bounded wait: 1 s stress timeout vs 300 s normal', async () => {
    await withInbound({ max_clients: 5, stress: { idle_timeout: '1s' } }, async ({ port, events }) => {
      const local = await open(port, '127.0.0.1', 4);
      try {
        assert.equal(local.greetings.filter((g) => g.startsWith('220 ')).length, 4);
        // 4 of 5 is stress: every idle session, including those opened before it, is closed by the 1 s timer
        await Promise.all(local.clients.map((c) => c.waitClosed(10_000)));
        assert.ok(events.some((e) => e.event === 'stress' && e.stress === true), 'entering stress mode is logged');
      } finally {
        for (const c of local.clients) c.close();
      }
    });
  });
});

describe('per-session hard error limit (issue 19 item 6)', () => {
  test('the third error reply is followed by "421 4.7.0 relay.test Error: too many errors" and the connection is closed', async () => {
    await withInbound({ hard_error_limit: 3 }, async ({ port }) => {
      const c = await RawSmtp.connect(port, { localAddress: '127.0.0.2' });
      try {
        await c.greeting;
        await c.cmd('EHLO outsider.test');
        assert.match(await c.cmd('BOGUS'), /^500 /);
        assert.match(await c.cmd('MAIL FROM:<x@outsider.test>'), /^250 /);
        assert.match(await c.cmd('RCPT TO:<v@dst.test>'), /^554 5\.7\.1 /);
        assert.match(await c.cmd('RCPT TO:<w@dst.test>'), /^554 5\.7\.1 /);
        assert.equal(await c.reply(), '421 4.7.0 relay.test Error: too many errors');
        await c.waitClosed();
      } finally {
        c.close();
      }
    });
  });
});

describe('AUTH failure rate limit and authzid (issue 19 item 6)', () => {
  let dir = '';
  let files: { cert: string; key: string; users: string };
  const plain = (authzid: string, user: string, pass: string): string => Buffer.from(`${authzid}\0${user}\0${pass}`).toString('base64');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dane-relay-guard-'));
    const cert = await createSelfSigned({ dnsNames: ['relay.test'] });
    files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), users: join(dir, 'users') };
    await writeFile(files.cert, cert.certPem);
    await writeFile(files.key, cert.keyPem);
    await writeFile(files.users, `${await hashPassword('alice', 'correct horse', { N: 1024, r: 8, p: 1 })}\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const authInbound = (extra: Record<string, unknown> = {}) => ({ tls: { cert: files.cert, key: files.key }, auth: { users_file: files.users }, ...extra });

  async function tlsSession(port: number, localAddress: string): Promise<RawSmtp> {
    const c = await RawSmtp.connect(port, { localAddress });
    await c.greeting;
    await c.cmd('EHLO outsider.test');
    await c.startTls();
    await c.cmd('EHLO outsider.test');
    return c;
  }

  test('RFC 4616 s2: PLAIN with authzid=admin is refused 535 5.7.8 even with the right password; empty or equal authzid authenticates', async () => {
    await withInbound(authInbound(), async ({ port }) => {
      const c = await tlsSession(port, '127.0.0.2');
      try {
        assert.equal(await c.cmd(`AUTH PLAIN ${plain('admin', 'alice', 'correct horse')}`), '535 5.7.8 Error: authentication failed');
        assert.match(await c.cmd(`AUTH PLAIN ${plain('alice', 'alice', 'correct horse')}`), /^235 /);
      } finally {
        c.close();
      }
      const d = await tlsSession(port, '127.0.0.2');
      try {
        assert.match(await d.cmd(`AUTH PLAIN ${plain('', 'alice', 'correct horse')}`), /^235 /);
      } finally {
        d.close();
      }
    });
  });

  test('over auth_failure_limit failures a client gets 421 4.7.0 in every session without a password check; another client still authenticates', async () => {
    await withInbound(authInbound({ auth_failure_limit: 3 }), async ({ port, events }) => {
      const c = await tlsSession(port, '127.0.0.2');
      try {
        for (let i = 0; i < 3; i++) assert.equal(await c.cmd(`AUTH PLAIN ${plain('', 'alice', `wrong ${i}`)}`), '535 5.7.8 Error: authentication failed');
        const checked = events.filter((e) => e.event === 'auth').length;
        assert.equal(checked, 3);
        // even the right password is not checked now
        assert.equal(await c.cmd(`AUTH PLAIN ${plain('', 'alice', 'correct horse')}`), '421 4.7.0 relay.test Error: too many authentication failures from 127.0.0.2');
        await c.waitClosed();
        assert.equal(events.filter((e) => e.event === 'auth').length, checked, 'no password was checked after the limit');
      } finally {
        c.close();
      }
      const again = await tlsSession(port, '127.0.0.2');
      try {
        assert.match(await again.cmd(`AUTH PLAIN ${plain('', 'alice', 'correct horse')}`), /^421 4\.7\.0 /);
      } finally {
        again.close();
      }
      const other = await tlsSession(port, '127.0.0.3');
      try {
        assert.match(await other.cmd(`AUTH PLAIN ${plain('', 'alice', 'correct horse')}`), /^235 /);
      } finally {
        other.close();
      }
      assert.ok(events.some((e) => e.reason === 'auth-rate' && e.client === '127.0.0.2'));
    });
  });
});
