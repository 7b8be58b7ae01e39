import { createHash } from 'node:crypto';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { parseConfig } from '../../src/config/load.ts';
import { PromptConnection, PromptGreetingServer } from '../../src/inbound/prompt-greeting.ts';
import { InboundServer } from '../../src/inbound/server.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { RawSmtp } from '../fixtures/smtp-client.ts';
import { tempSpool } from '../queue/helpers.ts';

const squash = (fn: { toString(): string }): string => fn.toString().replace(/\s+/g, ' ').trim();

/**
 * Upstream's two methods that PromptGreetingServer replaces, as shipped in
 * smtp-server 3.21.6. If an upgrade changes either, this contract fails:
 * re-read them and bring src/inbound/prompt-greeting.ts in line (or drop it
 * if upstream gained an option for the delay).
 */
const UPSTREAM_INIT = squash(`init() {
        // Setup event handlers for the socket
        this._setListeners(() => {
            // Check that connection limit is not exceeded
            if (this._server.options.maxClients && this._server.connections.size > this._server.options.maxClients) {
                return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
            }
            // Keep a small delay for detecting early talkers
            let readyTimer = setTimeout(() => this.connectionReady(), 100);
            // Unref timer so connection init delay doesn't prevent process exit
            readyTimer.unref();
        });
    }`);
const UPSTREAM_CONNECT = squash(`connect(socket, socketOptions) {
        let connection = new SMTPConnection(this, socket, socketOptions);
        this.connections.add(connection);
        connection.on('error', err => this._onError(err));
        connection.on('connect', data => this._onClientConnect(data));
        connection.init();
    }`);

/** As the relay configures it: no reverse lookup, and an onConnect that answers synchronously (the stock one waits for setImmediate). */
const OPTIONS: SMTPServerOptions = { disableReverseLookup: true, logger: false, disabledCommands: ['STARTTLS', 'AUTH'], name: 'prompt.test', onConnect: (_s, cb) => cb() };

/** A connected loopback socket pair; the server side is handed to `server.connect()` by the test itself. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect({ host: '127.0.0.1', port });
  const [[server]] = await Promise.all([accepted, once(client, 'connect')]);
  listener.close();
  client.on('error', () => undefined);
  server.on('error', () => undefined);
  return { client, server, close: () => (client.destroy(), server.destroy()) };
}

/** The connection object `server.connect()` just created, and whether it accepts commands. */
const readyState = (s: SMTPServer): boolean[] => [...s.connections].map((c) => (c as unknown as { _ready: boolean })._ready);

describe('prompt greeting (issue 15): no 100 ms pregreet delay', () => {
  test('contract: smtp-server is 3.21.6 and its init()/connect() are the ones PromptGreetingServer replaces', () => {
    const pkg = createRequire(import.meta.url)('smtp-server/package.json') as { version: string };
    assert.equal(pkg.version, '3.21.6');
    assert.equal(squash(SMTPConnection.prototype.init), UPSTREAM_INIT);
    assert.equal(squash(SMTPServer.prototype.connect), UPSTREAM_CONNECT);
    // _handleProxy (4.6 kB): pinned by the hash of its source; the override keeps its PROXY branch and its `ignore`.
    const handleProxy = (SMTPServer.prototype as unknown as { _handleProxy(): void })._handleProxy;
    assert.equal(createHash('sha256').update(squash(handleProxy)).digest('hex'), '95b040fae0e7981d1b15f7a7f4b0904d933c22742848c3eae8894bc9e67ea846');
    for (const m of ['_setListeners', 'connectionReady', 'send'] as const) assert.equal(typeof SMTPConnection.prototype[m], 'function', m);
  });

  test('contract: the stock server is not ready when connect() returns (the delay we remove is still upstream)', async (t) => {
    const stock = new SMTPServer(OPTIONS);
    const pair = await socketPair();
    t.after(() => pair.close());
    stock.connect(pair.server);
    assert.deepEqual(readyState(stock), [false]);
  });

  test('PromptGreetingServer: the connection is ready and the 220 written in the same tick as connect()', async (t) => {
    const prompt = new PromptGreetingServer(OPTIONS);
    const pair = await socketPair();
    t.after(() => pair.close());
    prompt.connect(pair.server);
    const [conn] = prompt.connections;
    assert.ok(conn instanceof PromptConnection);
    assert.deepEqual(readyState(prompt), [true]);
    assert.ok(pair.server.bytesWritten > 0 || pair.server.writableLength > 0, 'the banner is already queued on the socket');
    pair.client.setEncoding('latin1');
    const [first] = (await once(pair.client, 'data')) as [string];
    assert.match(first, /^220 prompt\.test ESMTP/);
  });

  test('PromptGreetingServer: a socket without a PROXY header is handed on in the same tick, with a fresh session id; ignoredHosts kept', async (t) => {
    const prompt = new PromptGreetingServer({ ...OPTIONS, ignoredHosts: ['127.0.0.1'] });
    const pair = await socketPair();
    t.after(() => pair.close());
    const internals = prompt as unknown as { _handleProxy(s: net.Socket, cb: (err: Error | null, o?: { id: string; ignore: boolean }) => void): void };
    const got: Array<{ id: string; ignore: boolean } | undefined> = [];
    internals._handleProxy(pair.server, (err, o) => { assert.equal(err, null); got.push(o); });
    internals._handleProxy(pair.server, (_err, o) => got.push(o));
    assert.equal(got.length, 2, 'called back synchronously (upstream waits for setImmediate)');
    assert.match(got[0]?.id ?? '', /^[0-9a-v]{16}$/);
    assert.notEqual(got[0]?.id, got[1]?.id);
    assert.equal(got[0]?.ignore, true);
  });

  test('maxClients still refuses the connection over the limit with 421 (upstream check kept)', async (t) => {
    const prompt = new PromptGreetingServer({ ...OPTIONS, maxClients: 1 });
    const a = await socketPair();
    const b = await socketPair();
    t.after(() => (a.close(), b.close()));
    prompt.connect(a.server);
    prompt.connect(b.server);
    b.client.setEncoding('latin1');
    const [reply] = (await once(b.client, 'data')) as [string];
    assert.match(reply, /^421 prompt\.test Too many connected clients/);
  });

  test('after QUIT the descriptor is closed once 221 and FIN are sent, though the client keeps its side open (as smtpd closes; no ECONNRESET when the client resets)', async (t) => {
    const listener = net.createServer();
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const { port } = listener.address() as net.AddressInfo;
    const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
    // allowHalfOpen: this client never sends its FIN, so only the server can end the connection
    const client = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const [[serverSide]] = await Promise.all([accepted, once(client, 'connect')]);
    listener.close();
    const prompt = new PromptGreetingServer(OPTIONS);
    t.after(() => (client.destroy(), serverSide.destroy()));
    let received = '';
    client.setEncoding('latin1');
    client.on('data', (d: string) => (received += d));
    const clientSawFin = once(client, 'end');
    const serverClosed = once(serverSide, 'close');
    prompt.connect(serverSide);
    client.write('QUIT\r\n');
    // upstream keeps the half-closed socket until the client's FIN or 5 s (HALF_CLOSE_TIMEOUT)
    let bound: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([serverClosed.then(() => 'closed'), new Promise((r) => (bound = setTimeout(() => r('still open after 2 s'), 2000)))]);
    clearTimeout(bound);
    assert.equal(outcome, 'closed');
    await clientSawFin;
    assert.match(received, /^220 prompt\.test ESMTP\r\n221 Bye\r\n$/);
  });

  test('inbound: a client that sends EHLO at once on connect, before reading the banner, is served (not "421 You talk too soon")', async () => {
    const { spool, dir, cleanup } = await tempSpool();
    const config = parseConfig({ listen: ['127.0.0.1:0'], spool: dir, myhostname: 'relay.test' });
    const server = new InboundServer({ config, spool, logger: silentLogger(), onQueued: () => undefined });
    try {
      const [addr] = await server.listen();
      const c = await RawSmtp.connect(addr?.port ?? 0);
      try {
        c.write('EHLO early.test\r\n');
        assert.match(await c.greeting, /^220 relay\.test ESMTP/);
        assert.match(await c.reply(), /^250-relay\.test/);
      } finally {
        c.close();
      }
    } finally {
      await server.close(100);
      await cleanup();
    }
  });
});
