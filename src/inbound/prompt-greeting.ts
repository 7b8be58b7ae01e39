/**
 * An SMTPServer that greets at once: no 100 ms "early talker" delay.
 *
 * smtp-server 3.21.6 holds every `220` for 100 ms (a timer in
 * `SMTPConnection.init()`, no option turns it off) so that a client which
 * talks before the banner can be refused `421 You talk too soon`. That is
 * pregreet detection, a port-25 anti-spam measure (Postfix runs it only in
 * postscreen, never in the smtpd that a relayhost's clients talk to). For
 * dane-relay, whose clients are the operator's own MTAs, it is pure latency:
 * a client that opens one connection per message waits 100 ms each time
 * (issue 15: 20 sessions capped near 200 msg/s). Pregreet detection is not
 * kept: no configuration turns it on.
 *
 * Contract:
 * - `PromptGreetingServer` is an `SMTPServer` with the same options and
 *   hooks; only `connect()` differs: it builds a `PromptConnection`, whose
 *   `init()` keeps upstream's checks (listeners first, then the
 *   `maxClients` limit with `421 … Too many connected clients`) and then
 *   calls `connectionReady()` in the same tick instead of 100 ms later. The
 *   connection becomes ready (and writes its `220`, when `onConnect`
 *   answers synchronously) before any client byte can be read.
 * - A socket that is not expected to start with a PROXY header (not in
 *   `useProxy`; the relay sets none) is handed to `connect()` in the same
 *   tick it was accepted, with a session id from a per-process counter.
 *   Upstream (`_handleProxy`) draws 10 random bytes for the id and waits for
 *   the next `setImmediate` first: CPU and a loop turn per connection for an
 *   id smtp-server only logs. A PROXY socket takes upstream's path.
 * - When the session ends (`close()`: after `221`, a `421`, an error), the
 *   descriptor is closed as soon as the last reply and the FIN are with the
 *   kernel, as smtpd closes after `221`; upstream keeps reading until the
 *   client's FIN or a 5 s deadline. `close()` extends upstream's (which
 *   still runs first), so nothing of it is copied.
 * - Reverse lookup, `onConnect`/`onSecure` refusals, implicit TLS and
 *   everything else after the greeting are upstream code, unchanged.
 *
 * Why a subclass rather than a patch of node_modules (patch-package): the
 * change stays in our source, typed against the package's own declarations,
 * with no install-time step that `npm ci --omit=dev` or a packager could
 * skip silently. Its price, copying the two small upstream methods it
 * replaces, is pinned by test/inbound/prompt-greeting.test.ts: the test
 * fails if smtp-server's `SMTPConnection.prototype.init`,
 * `SMTPServer.prototype.connect` or `_handleProxy` change, so an upgrade is
 * reviewed here.
 * Failure modes: none of its own; upstream's apply.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';

/** An SMTPConnection whose greeting is not delayed (see the module header). */
export class PromptConnection extends SMTPConnection {
  override init(): void {
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
      }
      this.connectionReady();
    });
  }

  /**
   * Upstream ends the socket (the last reply, then FIN) and keeps reading
   * until the client's FIN or a deadline. Here the descriptor is closed as
   * soon as the last reply and the FIN are with the kernel, as Postfix's
   * smtpd closes after `221`: nothing the client sends after QUIT is read
   * anyway, the reply already written still leaves, and a client that resets
   * instead of closing (Postfix's `smtp-source` sets SO_LINGER 0) no longer
   * costs an ECONNRESET error with a stack trace per connection.
   */
  override close(): void {
    const first = !this._closing && !this._closed;
    super.close();
    if (!first) return;
    const socket = this._socket;
    if (socket.destroyed) return;
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  }
}

/** smtp-server internals the accept path below relies on (pinned by the contract test). */
interface ProxyInternals {
  _expectsProxyHeader(socket: net.Socket): boolean;
  _handleProxy(socket: net.Socket, callback: (err: Error | null, socketOptions?: SMTPConnectionOptions) => void): void;
  options: { ignoredHosts?: string[] };
}

/** Session ids: a random per-process prefix and a counter (unique in this process's log, as upstream's random ones are). */
const ID_PREFIX = Math.floor(Math.random() * 2 ** 40).toString(32).padStart(8, '0');
let sessionCounter = 0;
const nextSessionId = (): string => ID_PREFIX + (++sessionCounter).toString(32).padStart(8, '0');

/** `SMTPServer` whose connections greet at once (see the module header). */
export class PromptGreetingServer extends SMTPServer {
  constructor(...args: ConstructorParameters<typeof SMTPServer>) {
    super(...args);
    const self = this as unknown as ProxyInternals;
    const upstream = self._handleProxy.bind(this);
    self._handleProxy = (socket, callback) => {
      if (self._expectsProxyHeader(socket)) return upstream(socket, callback);
      const ignore = self.options.ignoredHosts?.includes(socket.remoteAddress ?? '') ?? false;
      callback(null, { id: nextSessionId(), ignore } as SMTPConnectionOptions);
    };
  }

  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new PromptConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}
