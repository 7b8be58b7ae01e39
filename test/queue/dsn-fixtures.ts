/**
 * Helpers for DSN tests: a message stored with DSN parameters, and a real MIME
 * parser (mailparser) reading a DSN back: its parts and the RFC 3464 fields of
 * its message/delivery-status part.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { newRecord, type NewRecipient, type QueueRecord } from '../../src/queue/record.ts';
import type { Spool } from '../../src/queue/spool.ts';

export async function storeWithDsn(spool: Spool, sender: string, recipients: NewRecipient[], opts: { now: number; ret?: 'FULL' | 'HDRS'; envid?: string; requireTls?: boolean; body?: string }): Promise<string> {
  const w = await spool.beginMessage(opts.now);
  const body = Buffer.from(opts.body ?? `From: ${sender}\r\nTo: ${recipients.map((r) => r.address).join(', ')}\r\nSubject: original\r\nMessage-ID: <${w.id}@test>\r\n\r\nthe secret body\r\n`);
  await w.write(body);
  await w.commit(newRecord({
    id: w.id, sender, recipients, receivedAt: opts.now, size: body.length, smtputf8: false, eightBit: false,
    ...(opts.ret ? { ret: opts.ret } : {}), ...(opts.envid !== undefined ? { envid: opts.envid } : {}), ...(opts.requireTls ? { requireTls: true } : {}),
  }));
  return w.id;
}

export interface ParsedDsn {
  mail: ParsedMail;
  contentType: string;
  reportType: string | undefined;
  /** Content types of the three parts, in order. */
  parts: string[];
  perMessage: Record<string, string>;
  perRecipient: Array<Record<string, string>>;
  /** The third part as text. */
  returned: string;
}

function fieldGroups(text: string): Array<Record<string, string>> {
  return text.replace(/\r\n[ \t]+/g, ' ').split(/\r?\n\r?\n/).filter((g) => g.trim() !== '').map((g) => {
    const out: Record<string, string> = {};
    for (const line of g.split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    return out;
  });
}

export async function parseDsn(raw: Buffer): Promise<ParsedDsn> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true });
  const ct = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
  const attachments = mail.attachments;
  const status = attachments.find((a) => a.contentType === 'message/delivery-status');
  const third = attachments.find((a) => a.contentType === 'message/rfc822' || a.contentType === 'text/rfc822-headers');
  const [perMessage = {}, ...perRecipient] = fieldGroups(status?.content.toString('utf8') ?? '');
  return {
    mail, contentType: ct.value, reportType: ct.params['report-type'],
    parts: ['text/plain', ...attachments.map((a) => a.contentType)],
    perMessage, perRecipient, returned: third?.content.toString('utf8') ?? '',
  };
}

export type { QueueRecord };
