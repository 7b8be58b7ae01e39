/**
 * Lets the inbound server see every reply smtp-server sends, to count the
 * errors of a session (client-limits.ts, Postfix `smtpd_hard_error_limit`):
 * smtp-server writes its own error replies (unknown command, syntax errors,
 * bad sequence) without calling any hook, and all replies leave through
 * `SMTPConnection.prototype.send`. That method is wrapped once; after each
 * reply the observer registered for the connection's server (if any) runs
 * with the connection and the reply code.
 *
 * Relies on a library internal (`send`, `_server`, `session` of smtp-server
 * 3.21.x), pinned by the lock file and by test/inbound/client-guard.test.ts
 * (an unknown command counts as an error). An observer must not throw: it
 * runs inside smtp-server's reply path (client-guard.ts catches and logs).
 */
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** What an observer may use of a connection. */
export interface ObservedConnection {
  session: SMTPServerSession;
  remoteAddress: string;
  send(code: number, data?: string | string[] | null, context?: string | false): void;
}

export type ReplyObserver = (conn: ObservedConnection, code: number) => void;

const PATCHED = Symbol.for('dane-relay.reply-observer');
const observers = new WeakMap<object, ReplyObserver>();

type Send = (code: number, data?: string | string[] | null, context?: string | false) => void;

function install(): void {
  const proto = SMTPConnection.prototype as unknown as { send: Send; [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const original = proto.send;
  proto.send = function send(this: { _server?: object } & ObservedConnection, code, data, context) {
    original.call(this, code, data, context);
    const observer = this._server ? observers.get(this._server) : undefined;
    if (observer) observer(this, code);
  };
  proto[PATCHED] = true;
}

/** Registers `observer` for the replies of every connection of `server`. */
export function observeReplies(server: SMTPServer, observer: ReplyObserver): void {
  install();
  observers.set(server, observer);
}
