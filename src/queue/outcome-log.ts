/**
 * One log event per recipient outcome, with Postfix's wording in `msg`:
 * `ID: to=<rcpt>, relay=mx.example[192.0.2.1]:25, delay=3.2, dsn=2.0.0, status=sent (250 ok)`
 * plus typed fields (qid, rcpt, relay, delay, dsn, status). Expired
 * recipients log `status=expired`, as Postfix's "returned to sender".
 */
import type { Logger } from 'pino';
import type { QueueRecord, RecipientState } from './record.ts';

export function logOutcome(logger: Logger, rec: QueueRecord, r: RecipientState, now: number): void {
  const delay = Math.max(0, (now - rec.receivedAt) / 1000);
  const status = r.expired ? 'expired' : r.status;
  const relay = r.relay ?? 'none';
  const fields = { qid: rec.id, event: 'delivery', rcpt: r.address, relay, delay, dsn: r.dsn, status, attempt: r.attempts };
  const msg = `${rec.id}: to=<${r.address}>, relay=${relay}, delay=${delay.toFixed(1)}, dsn=${r.dsn ?? ''}, status=${status} (${r.diagnostic ?? ''})`;
  if (r.status === 'sent') logger.info(fields, msg);
  else logger.warn(fields, msg);
}
