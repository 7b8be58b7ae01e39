/**
 * Delivery status notifications (RFC 3464) for bounced and expired
 * recipients, composed with nodemailer's MIME builder.
 *
 * Shape: `multipart/report; report-type=delivery-status` (RFC 6522) with
 * 1. text/plain, a human explanation in Postfix's wording;
 * 2. message/delivery-status: per-message fields (Reporting-MTA,
 *    X-Dane-Relay-Queue-ID, Arrival-Date), then per recipient
 *    Final-Recipient, Action: failed, Status, Remote-MTA, Diagnostic-Code
 *    (`smtp;` with the remote reply when a server said it, else `x-dane-relay;`),
 *    Last-Attempt-Date (RFC 3464 sections 2.2, 2.3);
 * 3. text/rfc822-headers: the original header section (never the body).
 *
 * The caller sends it from the null sender to the original envelope sender
 * and never for a null-sender message (no bounce for a bounce). Pure apart
 * from MimeNode's own random boundary.
 */
import MimeNode from 'nodemailer/lib/mime-node';
import type { QueueRecord, RecipientState } from './record.ts';

export interface DsnInput {
  record: QueueRecord;
  recipients: RecipientState[];
  /** The original message's header section (CRLF line ends, no blank line). */
  originalHeaders: string;
  reportingMta: string;
  now: number;
}

function rfc822Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** Header field values must not carry CR/LF (they come from remote servers). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?').trim();
}

function explanation(input: DsnInput): string {
  const lines = [
    `This is the mail system at host ${input.reportingMta}.`,
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients. Its headers are attached below.',
    '',
    'For further assistance, please send mail to postmaster.',
    '',
    '                   The mail system',
    '',
  ];
  for (const r of input.recipients) lines.push(`<${r.address}>: ${oneLine(r.diagnostic ?? 'delivery failed')}`, '');
  return lines.join('\r\n');
}

function recipientFields(r: RecipientState): string {
  const fields = [`Final-Recipient: rfc822; ${r.address}`, 'Action: failed', `Status: ${r.dsn && /^[45]\.\d{1,3}\.\d{1,3}$/.test(r.dsn) ? r.dsn : '5.0.0'}`];
  const mta = r.relay ? /^([^[\]:]+)/.exec(r.relay)?.[1] : undefined;
  if (mta) fields.push(`Remote-MTA: dns; ${mta}`);
  if (r.remoteReply) fields.push(`Diagnostic-Code: smtp; ${oneLine(r.remoteReply)}`);
  else fields.push(`Diagnostic-Code: x-dane-relay; ${oneLine(r.diagnostic ?? 'delivery failed')}`);
  if (r.lastAttemptAt !== undefined) fields.push(`Last-Attempt-Date: ${rfc822Date(r.lastAttemptAt)}`);
  return fields.join('\r\n');
}

function deliveryStatus(input: DsnInput): string {
  const perMessage = [`Reporting-MTA: dns; ${input.reportingMta}`, `X-Dane-Relay-Queue-ID: ${input.record.id}`, `Arrival-Date: ${rfc822Date(input.record.receivedAt)}`].join('\r\n');
  return [perMessage, ...input.recipients.map(recipientFields)].join('\r\n\r\n') + '\r\n';
}

/** Builds the complete DSN message (headers and body, CRLF). */
export async function composeDsn(input: DsnInput): Promise<Buffer> {
  const root = new MimeNode('multipart/report', { hostname: input.reportingMta, newline: 'win' });
  root.setHeader('Content-Type', 'multipart/report; report-type=delivery-status');
  root.setHeader('From', `MAILER-DAEMON@${input.reportingMta}`);
  root.setHeader('To', input.record.sender);
  root.setHeader('Subject', 'Undelivered Mail Returned to Sender');
  root.setHeader('Auto-Submitted', 'auto-replied');
  root.setHeader('Date', new Date(input.now));
  root.createChild('text/plain; charset=us-ascii').setHeader('Content-Description', 'Notification').setContent(explanation(input));
  root.createChild('message/delivery-status').setHeader('Content-Description', 'Delivery report').setContent(deliveryStatus(input));
  root.createChild('text/rfc822-headers').setHeader('Content-Description', 'Undelivered Message Headers').setContent(input.originalHeaders + '\r\n');
  return root.build();
}

/** The header section of a message (up to the first empty line), at most `limit` bytes. */
export function headerSection(head: Buffer, limit = 65_536): string {
  const text = head.subarray(0, limit).toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  return (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n/g, '\r\n');
}
