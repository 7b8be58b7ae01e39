/**
 * Hands a composed mailto: TLSRPT report to the relay's own queue (DESIGN.md
 * "TLSRPT": sending reuses the queue), the way bounces are queued
 * (queue/bounce.ts): one queue file written whole in `tmp/`, fsynced and
 * renamed into `incoming/`. A running relay picks it up at its next spool
 * scan (`queue.scan_interval`, 60 s by default), a stopped one at its next
 * start. The flush trigger is deliberately not used: it would make every
 * deferred message due at once, once a day, ignoring its back-off.
 *
 * Envelope sender: the null sender `<>`. RFC 8460 §5.3 does not name the
 * envelope sender; a report is an automatic message, and with `<>` a report
 * that cannot be delivered never produces a bounce (no bounce for a bounce,
 * RFC 5321 §4.5.5), so no report loop can start. The report is identified
 * by its DKIM-signed From (contact-info) and TLS-Report-* headers instead.
 * It is delivered under the same TLS policy as any mail: RFC 8460 §5.3's
 * "deliver reports despite any TLS-related failures" is deliberately NOT
 * followed (non-negotiables 2, 3, 6: no path downgrades).
 * Failure modes: I/O errors reject (the caller reports, the ledger is not
 * written, the next run tries again).
 */
import { newRecord } from '../queue/record.ts';
import { Spool } from '../queue/spool.ts';

export interface ReportMailOut { to: string; message: Buffer }

export async function enqueueReportMail(spoolRoot: string, mail: ReportMailOut, now: number = Date.now()): Promise<string> {
  const spool = await Spool.open(spoolRoot);
  const writer = await spool.beginMessage(now);
  try {
    await writer.write(mail.message);
    const eightBit = mail.message.some((b) => b > 127);
    await writer.commit(newRecord({ id: writer.id, sender: '', recipients: [mail.to], receivedAt: now, size: mail.message.length, smtputf8: false, eightBit }));
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return writer.id;
}
