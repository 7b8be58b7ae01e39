/**
 * Queues a delivery status notification for recipients of a message (the
 * kinds: failed, delayed, relayed; dsn.ts composes it): from the null sender
 * to the original envelope sender, stored like any other message (one queue
 * file in `incoming/`). The original's header section, or for a failed DSN
 * with RET=FULL within `maxReturned` bytes the whole message (core
 * `returnedContent`), is read from its queue file in `active/`.
 *
 * REQUIRETLS (RFC 8689 §5): the DSN of a REQUIRETLS message is itself
 * queued with REQUIRETLS, so it travels only as the original was allowed to,
 * and it returns the original's headers only, never its body.
 *
 * Contract: never called for a null-sender message (the caller checks: no
 * bounce for a bounce; this throws if it is). Returns the new queue id; I/O
 * errors throw.
 */
import { returnedContent, type DsnKind } from '../core/dsn-notify.ts';
import { composeDsn, headerSection } from './dsn.ts';
import { newRecord, type QueueRecord, type RecipientState } from './record.ts';
import type { Spool } from './spool.ts';

/** Enough of the original message for its header section. */
const HEAD_LIMIT = 65_536;

export interface DsnSettings {
  reportingMta: string;
  now: number;
  /** Postfix bounce_size_limit. */
  maxReturned: number;
  /** For delay warnings: when the message expires. */
  retryUntil?: number;
}

export async function queueDsn(spool: Spool, record: QueueRecord, recipients: RecipientState[], kind: DsnKind, s: DsnSettings): Promise<string> {
  if (record.sender === '') throw new Error('no bounce for a bounce');
  const full = !record.requireTls && returnedContent(kind, record.ret, record.size, s.maxReturned) === 'full';
  const limit = full ? record.size : Math.min(HEAD_LIMIT, record.size);
  const content = await spool.readContent('active', record.id, record.size, limit).catch(() => Buffer.alloc(0));
  const message = await composeDsn({
    kind, record, recipients, originalHeaders: headerSection(content), reportingMta: s.reportingMta, now: s.now,
    ...(full && content.length === record.size ? { originalMessage: content } : {}), ...(s.retryUntil !== undefined ? { retryUntil: s.retryUntil } : {}),
  });
  const eightBit = message.some((b) => b > 127);
  const writer = await spool.beginMessage(s.now);
  try {
    await writer.write(message);
    await writer.commit(newRecord({
      id: writer.id, sender: '', recipients: [record.sender], receivedAt: s.now, size: message.length, smtputf8: record.smtputf8, eightBit,
      ...(record.requireTls ? { requireTls: true } : {}),
    }));
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return writer.id;
}

/** A failure DSN (the historical entry point). */
export function queueBounce(spool: Spool, record: QueueRecord, recipients: RecipientState[], reportingMta: string, now: number, maxReturned = 50_000): Promise<string> {
  return queueDsn(spool, record, recipients, 'failed', { reportingMta, now, maxReturned });
}
