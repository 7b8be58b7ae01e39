/**
 * The queue's record of a recipient state change, with Postfix's wording in
 * `msg`: `ID: to=<rcpt>, relay=..., delay=3.2, dsn=2.0.0, status=sent (250 ok)`
 * plus typed fields (qid, rcpt, relay, delay, dsn, status, attempt).
 *
 * Its event name is `queue-outcome`, not `delivery`: the delivery engine
 * already logs one `delivery` event per recipient and attempt with the TLS
 * facts (delivery-events.ts), so counting both would count twice. The queue
 * logs only what it alone knows: `expired` (Postfix's "returned to sender")
 * and outcomes the engine never produced. Status words are LOGGED_STATUSES.
 */
import type { Logger } from 'pino';
import type { QueueRecord, RecipientState } from '../queue/record.ts';
import type { LoggedStatus } from './delivery-events.ts';

export function logQueueOutcome(logger: Logger, rec: QueueRecord, r: RecipientState, now: number): void {
  const delay = Math.max(0, (now - rec.receivedAt) / 1000);
  const status: LoggedStatus | 'pending' = r.expired ? 'expired' : r.status;
  const relay = r.relay ?? 'none';
  const fields = { qid: rec.id, event: 'queue-outcome', rcpt: r.address, relay, delay, dsn: r.dsn, status, attempt: r.attempts };
  const msg = `${rec.id}: to=<${r.address}>, relay=${relay}, delay=${delay.toFixed(1)}, dsn=${r.dsn ?? ''}, status=${status} (${r.diagnostic ?? ''})`;
  if (r.status === 'sent') logger.info(fields, msg);
  else logger.warn(fields, msg);
}
