/**
 * Applies the limits of client-limits.ts to the smtp-server listeners:
 * counts connections per client address at accept time (before the
 * greeting delay, so a burst is counted at once and in order, as anvil
 * does), refuses a connection that was over its client's limit when it was
 * accepted with the `onConnect` reply, tracks stress per listener and shortens
 * the idle timeout of every session when a listener enters it, counts the
 * error replies of each session (reply-observer.ts) and ends the session at
 * the hard error limit, and keeps the failed-AUTH table per client address.
 *
 * Contract: `admit`, `authRefusal` return the reply to send, or undefined to
 * go on; they never throw. Limits follow `reload`. Failure modes: an
 * exception inside the reply observer (a bug) is logged as
 * `internal-error` and the reply path goes on.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import type { RelayConfig } from '../config/schema.ts';
import { admitAuth, admitConnection, AuthFailures, clientKey, ConnectionCounts, errorLimitReply, isErrorReply, limitSettings, sessionLimits, underStress, type LimitSettings, type SmtpReply } from './client-limits.ts';
import { observeReplies, type ObservedConnection } from './reply-observer.ts';

interface ConnectionInternals {
  _socket?: { setTimeout?: (ms: number) => unknown };
}

export class ClientGuard {
  private settings: LimitSettings;
  private readonly counts = new ConnectionCounts();
  /** The client's connection count when each open socket was accepted, by `address port` (what `admit` judges). */
  private readonly atAccept = new Map<string, number>();
  private readonly authFailures = new AuthFailures();
  private readonly errors = new WeakMap<SMTPServerSession, number>();
  private readonly stressed = new WeakSet<SMTPServer>();
  private readonly servers = new Set<SMTPServer>();

  constructor(
    config: RelayConfig,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.settings = limitSettings(config);
  }

  reload(config: RelayConfig): void {
    this.settings = limitSettings(config);
    for (const server of this.servers) this.refresh(server);
  }

  /** Starts counting the connections and the error replies of `server`. */
  attach(server: SMTPServer): void {
    this.servers.add(server);
    server.server.prependListener('connection', (socket: Socket) => {
      const client = clientKey(socket.remoteAddress);
      const release = this.counts.add(client);
      const id = `${client} ${socket.remotePort ?? 0}`;
      this.atAccept.set(id, this.counts.count(client));
      socket.once('close', () => {
        release();
        this.atAccept.delete(id);
      });
    });
    observeReplies(server, (conn, code) => {
      try {
        this.onReply(server, conn, code);
      } catch (err) {
        this.logger.error({ event: 'internal-error', err }, `warning: internal error in the reply observer: ${String(err)}`);
      }
    });
  }

  detach(server: SMTPServer): void {
    this.servers.delete(server);
  }

  /** The idle timeout a new session of `server` gets now (stress-dependent). */
  idleTimeout(server: SMTPServer | undefined): number {
    return sessionLimits(this.settings, server !== undefined && this.stressed.has(server)).idleTimeoutMs;
  }

  /** At `onConnect`: the refusal (421) for a client over its connection limit, or undefined. */
  admit(server: SMTPServer, session: SMTPServerSession): SmtpReply | undefined {
    this.refresh(server);
    const client = clientKey(session.remoteAddress);
    const count = this.atAccept.get(`${client} ${session.remotePort}`) ?? this.counts.count(client);
    const verdict = admitConnection(this.settings, session.remoteAddress, count);
    if (verdict.kind === 'accept') return undefined;
    this.logger.warn({ event: 'reject', reason: verdict.reason, client: session.remoteAddress, count }, `warning: Connection concurrency limit exceeded: ${count} from [${session.remoteAddress}]; ${verdict.reply.code} ${verdict.reply.text}`);
    return verdict.reply;
  }

  /** A session of `server` ended. */
  closed(server: SMTPServer): void {
    this.refresh(server);
  }

  /** Before a password is checked: the refusal (421) for a client over its failure rate, or undefined. */
  authRefusal(session: SMTPServerSession): SmtpReply | undefined {
    const key = clientKey(session.remoteAddress);
    const recent = this.authFailures.recent(key, this.now(), this.settings.authFailureWindowMs);
    const verdict = admitAuth(this.settings, session.remoteAddress, recent);
    if (verdict.kind === 'accept') return undefined;
    this.logger.warn({ event: 'reject', reason: verdict.reason, client: session.remoteAddress, failures: recent }, `warning: AUTH failure rate limit exceeded: ${recent} from [${session.remoteAddress}]; ${verdict.reply.code} ${verdict.reply.text}`);
    return verdict.reply;
  }

  authFailed(session: SMTPServerSession): void {
    this.authFailures.record(clientKey(session.remoteAddress), this.now(), this.settings.authFailureLimit);
  }

  /** Enters or leaves stress for `server` (Postfix stress adaptation); sets the idle timeout of its sessions. */
  private refresh(server: SMTPServer): void {
    const stress = underStress(this.settings, server.connections.size);
    const idle = sessionLimits(this.settings, stress).idleTimeoutMs;
    server.options.socketTimeout = idle;
    if (stress === this.stressed.has(server)) return;
    if (!stress) {
      this.stressed.delete(server);
      this.logger.info({ event: 'stress', stress: false, connections: server.connections.size }, `leaving stress mode: ${server.connections.size} connections`);
      return;
    }
    this.stressed.add(server);
    this.logger.warn({ event: 'stress', stress: true, connections: server.connections.size }, `warning: ${server.connections.size} of ${this.settings.maxClients} connections in use: entering stress mode (idle timeout ${idle} ms)`);
    // sessions already open get the shorter idle timer too (the timer's listener stays smtp-server's own)
    for (const conn of server.connections as Set<ConnectionInternals>) conn._socket?.setTimeout?.(idle);
  }

  private onReply(server: SMTPServer, conn: ObservedConnection, code: number): void {
    if (!isErrorReply(code)) return;
    const errors = (this.errors.get(conn.session) ?? 0) + 1;
    this.errors.set(conn.session, errors);
    const reply = errorLimitReply(this.settings, this.stressed.has(server), errors);
    if (!reply) return;
    this.logger.warn({ event: 'reject', reason: 'error-limit', client: conn.remoteAddress, errors }, `too many errors from [${conn.remoteAddress}]: ${reply.code} ${reply.text}`);
    conn.send(reply.code, reply.text);
  }
}
