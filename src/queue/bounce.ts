/**
 * Queues a delivery status notification for bounced recipients of a
 * message: from the null sender to the original envelope sender, stored
 * like any other message (body, then control file in `incoming/`).
 *
 * Contract: never called for a null-sender message (the scheduler checks:
 * no bounce for a bounce). Returns the new queue id; I/O errors throw.
 */
import { open } from 'node:fs/promises';
import { composeDsn, headerSection } from './dsn.ts';
import { newQueueId } from './queue-id.ts';
import { newRecord, type QueueRecord, type RecipientState } from './record.ts';
import type { Spool } from './spool.ts';

async function readHead(path: string, limit = 65_536): Promise<Buffer> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return Buffer.alloc(0);
  try {
    const buf = Buffer.alloc(limit);
    const { bytesRead } = await fh.read(buf, 0, limit, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function queueBounce(spool: Spool, record: QueueRecord, recipients: RecipientState[], reportingMta: string, now: number): Promise<string> {
  if (record.sender === '') throw new Error('no bounce for a bounce');
  const originalHeaders = headerSection(await readHead(spool.path('body', record.id)));
  const message = await composeDsn({ record, recipients, originalHeaders, reportingMta, now });
  const id = newQueueId(now);
  const body = await spool.beginBody(id);
  try {
    await body.write(message);
    await body.commit();
  } catch (err) {
    await body.abort();
    throw err;
  }
  const eightBit = message.some((b) => b > 127);
  await spool.writeRecord('incoming', newRecord({ id, sender: '', recipients: [record.sender], receivedAt: now, size: message.length, smtputf8: record.smtputf8, eightBit }));
  return id;
}
