/**
 * Queues a delivery status notification for bounced recipients of a
 * message: from the null sender to the original envelope sender, stored
 * like any other message (one queue file in `incoming/`). The original's
 * header section is read from its queue file in `active/`.
 *
 * Contract: never called for a null-sender message (the scheduler checks:
 * no bounce for a bounce). Returns the new queue id; I/O errors throw.
 */
import { composeDsn, headerSection } from './dsn.ts';
import { newRecord, type QueueRecord, type RecipientState } from './record.ts';
import type { Spool } from './spool.ts';

/** Enough of the original message for its header section. */
const HEAD_LIMIT = 65_536;

export async function queueBounce(spool: Spool, record: QueueRecord, recipients: RecipientState[], reportingMta: string, now: number): Promise<string> {
  if (record.sender === '') throw new Error('no bounce for a bounce');
  const head = await spool.readContent('active', record.id, record.size, HEAD_LIMIT).catch(() => Buffer.alloc(0));
  const message = await composeDsn({ record, recipients, originalHeaders: headerSection(head), reportingMta, now });
  const eightBit = message.some((b) => b > 127);
  const writer = await spool.beginMessage(now);
  try {
    await writer.write(message);
    await writer.commit(newRecord({ id: writer.id, sender: '', recipients: [record.sender], receivedAt: now, size: message.length, smtputf8: record.smtputf8, eightBit }));
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return writer.id;
}
