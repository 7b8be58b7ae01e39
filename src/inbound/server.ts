/**
 * Inbound SMTP (smtp-server): accepts mail from allowed clients and queues it.
 *
 * Promises:
 * - Relaying only for clients in `mynetworks` or that authenticated; AUTH
 *   is offered only after STARTTLS and only when a users file is configured;
 *   everyone else: `554 5.7.1 Relay access denied` at RCPT (access.ts).
 * - `250 2.0.0 Ok: queued as ID` is sent only after the message's queue
 *   file is on disk (spool.ts), then `onQueued(id, hint, dir)` runs; the
 *   file is in `incoming/`, or in `active/` when `queueDir()` said so.
 * - Limits with the standard replies: size `552 5.3.4`, recipients
 *   `452 4.5.3`, clients (`421`), idle timeout (`421`), line length in DATA
 *   `500 5.5.2`, command line length `500 5.5.2` and the session goes on
 *   (command-line.ts); bare LF / bare CR (SMTP smuggling) `550 5.5.2`, nothing
 *   queued (line-check.ts). SMTPUTF8, 8BITMIME, ENHANCEDSTATUSCODES, DSN
 *   announced; REQUIRETLS (RFC 8689) only after STARTTLS and only when
 *   inbound TLS is configured (smtp-server refuses the parameter outside
 *   TLS); SMTPUTF8/8BITMIME, the DSN parameters (RFC 3461) and REQUIRETLS
 *   carried in the queue record (store-message.ts). More than
 *   `hopcount_limit` hops: `554 5.4.6 Too many hops`.
 * - A `Received:` header is prepended (received.ts).
 * - One listener per `listen` entry; `max_clients` applies per listener.
 * - Per-client connection limit, stress adaptation, per-session error limit
 *   and AUTH failure rate limit (client-limits.ts, client-guard.ts); PLAIN
 *   with a foreign authzid is refused `535 5.7.8` (RFC 4616 section 2).
 * Failure modes: listen errors reject `listen()`; a spool write error
 * answers `451 4.3.0` and queues nothing.
 */
import type { QueuedHint } from '../queue/scheduler.ts';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession, type SMTPServerAuthentication, type SMTPServerAuthenticationResponse } from 'smtp-server';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { parseHostPort } from '../config/host-port.ts';
import { readUsersFile, verifyPassword, type UserTable } from '../config/users-file.ts';
import type { NewMessageDir, Spool } from '../queue/spool.ts';
import { storeMessage } from './store-message.ts';
import { networkMatcher, RELAY_DENIED, type NetworkMatcher } from './access.ts';
import { BAD_RECIPIENT, BAD_SENDER, validMailbox } from './address.ts';
import { allowExplicitEnhancedCodes } from './reply-codes.ts';
import { ClientGuard } from './client-guard.ts';
import { authzidAllowed } from './client-limits.ts';
import { PromptGreetingServer } from './prompt-greeting.ts';
import { answerOverlongCommands } from './command-line.ts';

export interface InboundDeps {
  config: RelayConfig;
  spool: Spool;
  logger: Logger;
  /** The message is durable in `dir`; `hint` carries what was just written (record, and small bodies). */
  onQueued: (id: string, hint: QueuedHint, dir: NewMessageDir) => void;
  /** Asked as each message is committed: `active` when the queue takes it for delivery at once; default `incoming`. */
  queueDir?: () => NewMessageDir;
  now?: () => number;
}

type Callback = (err?: Error | null) => void;

/**
 * Whether one read holds input after its first line: pipelined commands
 * (RFC 2920), or message lines. A client that sends one command and waits
 * for its reply (as `smtp-source` and most MTAs without PIPELINING do)
 * sends reads of exactly one line.
 */
export function pipelinedInput(chunk: Buffer): boolean {
  const lf = chunk.indexOf(0x0a);
  return lf !== -1 && lf < chunk.length - 1;
}

/**
 * Replies to pipelined commands leave in one write: the socket is corked
 * while the commands of one read are handled (synchronously, by
 * smtp-server) and uncorked on the next tick, as Postfix's smtpd flushes
 * its replies only when no pipelined input is left. A read of a single
 * command is not corked: its one reply is written at once, without the
 * buffering and the extra tick (issue 15). A reply produced later (the 250
 * after DATA) is written at once.
 */
function batchReplies(socket: Socket): void {
  socket.prependListener('data', (chunk: Buffer) => {
    if (socket.writableCorked || !pipelinedInput(chunk)) return;
    socket.cork();
    process.nextTick(() => socket.uncork());
  });
}

export function smtpError(reply: { code: number; text: string }): Error & { responseCode: number } {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}

export class InboundServer {
  private config: RelayConfig;
  private allowed: NetworkMatcher;
  private users: UserTable | undefined;
  private readonly servers: SMTPServer[] = [];
  private readonly guard: ClientGuard;

  constructor(private readonly deps: InboundDeps) {
    allowExplicitEnhancedCodes();
    answerOverlongCommands();
    this.config = deps.config;
    this.guard = new ClientGuard(deps.config, deps.logger, deps.now ?? Date.now);
    this.allowed = networkMatcher(deps.config.mynetworks);
    this.users = this.loadUsers(deps.config);
  }

  /** Opens every `listen` address; resolves with the bound addresses. */
  async listen(): Promise<Array<{ host: string; port: number }>> {
    const bound: Array<{ host: string; port: number }> = [];
    for (const spec of this.config.listen) {
      const hp = parseHostPort(spec);
      if (!hp) throw new Error(`bad listen address ${spec}`);
      const server = this.createServer();
      server.server.prependListener('connection', batchReplies);
      this.guard.attach(server);
      this.servers.push(server);
      let listening = false;
      server.on('error', (err) => {
        if (listening) this.deps.logger.warn({ err }, `smtpd: ${err.message}`);
      });
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.server.listen(hp.port, hp.host, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
      listening = true;
      const addr = server.server.address() as AddressInfo;
      bound.push({ host: addr.address, port: addr.port });
    }
    return bound;
  }

  /** Applies what can change live: mynetworks, users, limits. */
  reload(config: RelayConfig): void {
    const needsRestart = JSON.stringify([config.listen, config.inbound.tls]) !== JSON.stringify([this.config.listen, this.config.inbound.tls]);
    if (needsRestart) this.deps.logger.warn({ event: 'reload' }, 'listen and inbound.tls changes take effect after a restart');
    this.users = this.loadUsers(config);
    this.allowed = networkMatcher(config.mynetworks);
    this.config = config;
    this.guard.reload(config);
    for (const s of this.servers) Object.assign(s.options, this.limits(config, s));
  }

  /** Stops accepting; open sessions get `421` after graceMs. */
  async close(graceMs: number): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.options.closeTimeout = Math.max(1, graceMs);
            this.guard.detach(s);
            s.close(() => resolve());
          }),
      ),
    );
    this.servers.length = 0;
  }

  private loadUsers(config: RelayConfig): UserTable | undefined {
    const file = config.inbound.auth.users_file;
    return file === null ? undefined : readUsersFile(file);
  }

  private limits(config: RelayConfig, server?: SMTPServer) {
    const i = config.inbound;
    return {
      size: i.max_message_size,
      maxRecipients: i.max_recipients,
      maxClients: i.max_clients,
      socketTimeout: this.guard.idleTimeout(server),
      maxCommandLength: Math.max(512, i.max_line_length),
    };
  }

  private baseDisabled(): string[] {
    const tls = this.config.inbound.tls.cert !== null;
    return [...(tls ? [] : ['STARTTLS']), ...(this.users ? [] : ['AUTH'])];
  }

  private createServer(): SMTPServer {
    const { cert, key } = this.config.inbound.tls;
    const tls = cert !== null && key !== null ? { cert: readFileSync(cert), key: readFileSync(key) } : {};
    // Greets at once: no 100 ms pregreet delay (prompt-greeting.ts, issue 15).
    const server: SMTPServer = new PromptGreetingServer({
      ...tls,
      ...this.limits(this.config),
      name: this.config.myhostname,
      banner: 'dane-relay',
      rejectOversized: true,
      hideDSN: false,
      hideENHANCEDSTATUSCODES: false,
      // RFC 8689 §4: smtp-server announces REQUIRETLS only inside TLS; without a certificate, never.
      hideREQUIRETLS: cert === null || key === null,
      disableReverseLookup: true,
      authOptional: true,
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: false,
      disabledCommands: this.baseDisabled(),
      logger: false,
      onConnect: (session, cb) => this.onConnect(server, session, cb),
      onClose: () => this.guard.closed(server),
      onSecure: (_socket, session, cb) => this.onSecure(session, cb),
      onAuth: (auth, session, cb) => this.guarded(this.onAuth(auth, session, cb), session, cb),
      onMailFrom: (address, session, cb) => this.onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => this.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => this.guarded(this.onData(stream, session, cb), session, cb),
    });
    return server;
  }

  /**
   * An async hook never leaves a rejection behind: a bug in one is logged,
   * the client gets `451 4.3.0` and the daemon goes on (issue: a client that
   * hung up during DATA used to take the whole process down).
   */
  private guarded(work: Promise<void>, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    work.catch((err: unknown) => {
      this.deps.logger.error({ event: 'internal-error', err, client: session.remoteAddress }, `warning: internal error in session from [${session.remoteAddress}]: ${String(err)}`);
      try {
        cb(smtpError({ code: 451, text: '4.3.0 Error: internal error' }));
      } catch {
        /* the session is gone */
      }
    });
  }

  private onConnect(server: SMTPServer, session: SMTPServerSession, cb: Callback): void {
    const refusal = this.guard.admit(server, session);
    if (refusal) return cb(smtpError(refusal));
    // AUTH only after STARTTLS: hidden (and refused) until the session is secure.
    if (this.users && !session.secure) session.disabledCommands = [...this.baseDisabled(), 'AUTH'];
    cb();
  }

  private onSecure(session: SMTPServerSession, cb: Callback): void {
    session.disabledCommands = this.baseDisabled();
    cb();
  }

  private async onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, res?: SMTPServerAuthenticationResponse) => void): Promise<void> {
    // Rate limit first: over it, no scrypt work is done at all (issue 19).
    const refusal = this.guard.authRefusal(session);
    if (refusal) return cb(smtpError(refusal));
    const users = this.users;
    const authzOk = authzidAllowed(auth as SMTPServerAuthentication & { authzid?: unknown; authcid?: unknown });
    const ok = authzOk && users !== undefined && session.secure && (await verifyPassword(users, auth.username ?? '', auth.password ?? ''));
    const why = ok ? '' : authzOk ? ' (authentication failed)' : ' (authorization identity refused, RFC 4616)';
    this.deps.logger.info({ event: 'auth', client: session.remoteAddress, user: auth.username, ok }, `client=[${session.remoteAddress}], sasl_method=${auth.method}, sasl_username=${auth.username ?? ''}${why}`);
    if (!ok) {
      this.guard.authFailed(session);
      return cb(smtpError({ code: 535, text: '5.7.8 Error: authentication failed' }));
    }
    cb(null, { user: auth.username });
  }

  private onMailFrom(address: SMTPServerAddress, _session: SMTPServerSession, cb: Callback): void {
    const utf8 = address.args !== false && address.args.SMTPUTF8 !== undefined;
    if (address.address !== '' && !validMailbox(address.address, utf8)) return cb(smtpError(BAD_SENDER));
    cb();
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: Callback): void {
    if (!session.user && !this.allowed(session.remoteAddress)) {
      this.deps.logger.warn({ event: 'reject', reason: 'relay-denied', client: session.remoteAddress, rcpt: address.address }, `NOQUEUE: reject: RCPT from [${session.remoteAddress}]: 554 5.7.1 <${address.address}>: Relay access denied`);
      return cb(smtpError(RELAY_DENIED));
    }
    if (!validMailbox(address.address, session.envelope.smtpUtf8 === true)) return cb(smtpError(BAD_RECIPIENT));
    cb();
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    const result = await storeMessage({ stream, session, spool: this.deps.spool, config: this.config, now: this.deps.now ?? Date.now, ...(this.deps.queueDir ? { queueDir: this.deps.queueDir } : {}) });
    if (result.kind === 'client-gone') {
      this.deps.logger.info({ event: 'lost-connection', client: session.remoteAddress, stage: 'DATA' }, `lost connection after DATA from ${session.clientHostname || 'unknown'}[${session.remoteAddress}]`);
      return cb(result.error instanceof Error ? result.error : new Error(String(result.error)));
    }
    if (result.kind !== 'queued') {
      if (result.kind === 'io-error') this.deps.logger.error({ err: result.error, client: session.remoteAddress }, `warning: queue file write error: ${String(result.error)}`);
      else this.deps.logger.warn({ event: 'reject', client: session.remoteAddress, reason: result.reason }, `NOQUEUE: reject: DATA from [${session.remoteAddress}]: ${result.reply.code} ${result.reply.text}`);
      return cb(smtpError(result.reply));
    }
    const { id, dir, size, sender, nrcpt, messageId, record, body } = result;
    this.deps.logger.info(
      { event: 'queued', qid: id, client: session.remoteAddress, helo: session.hostNameAppearsAs, user: session.user, sender, nrcpt, size, messageId },
      `${id}: from=<${sender}>, size=${size}, nrcpt=${nrcpt} (queue active)`,
    );
    if (record.tlsRequiredNo) this.deps.logger.info({ event: 'tls-required-no', qid: id, honored: this.config.tls.honor_tls_required_no }, `${id}: TLS-Required: No header${this.config.tls.honor_tls_required_no ? '' : ' ignored (tls.honor_tls_required_no is off)'}`);
    cb(null, `2.0.0 Ok: queued as ${id}`);
    this.deps.onQueued(id, { record, ...(body ? { body } : {}) }, dir);
  }
}
