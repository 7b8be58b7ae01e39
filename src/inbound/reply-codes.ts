/**
 * Lets our hooks choose the enhanced status code (RFC 2034/3463) of a reply.
 *
 * smtp-server (3.21.x) prefixes every reply with an enhanced code derived
 * from the basic code when ENHANCEDSTATUSCODES is on, so an error from a
 * hook such as `554 Relay access denied` would go out as `554 5.6.0 ...`,
 * not Postfix's `554 5.7.1 Relay access denied`. This wraps
 * `SMTPConnection.prototype.send` once: a reply text that already starts
 * with an enhanced code (`5.7.1 Relay access denied`) is sent as is; every
 * other reply is untouched. Relies on a library internal: pinned by the lock
 * file and by the reply-code tests in test/inbound/.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
const PATCHED = Symbol.for('dane-relay.explicit-enhanced-codes');

type Send = (code: number, data?: string | string[] | null, context?: string | false) => void;

export function allowExplicitEnhancedCodes(): void {
  const proto = SMTPConnection.prototype as unknown as { send: Send; [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const original = proto.send;
  proto.send = function send(this: unknown, code, data, context) {
    const explicit = typeof data === 'string' && ENHANCED.test(data);
    original.call(this, code, data, explicit ? false : context);
  };
  proto[PATCHED] = true;
}
