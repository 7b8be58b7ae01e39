/**
 * Delivery status notifications (RFC 3464) composed with nodemailer's MIME
 * builder: `failed` (bounced and expired recipients), `delayed` (delay
 * warnings) and `relayed` (NOTIFY=SUCCESS to a next hop without DSN, RFC 3461
 * §5.2.2), in Postfix's shape and wording.
 *
 * Shape: `multipart/report; report-type=delivery-status` (RFC 6522) with
 * 1. text/plain, a human explanation in Postfix's wording;
 * 2. message/delivery-status: per-message fields (Reporting-MTA,
 *    X-Dane-Relay-Queue-ID and X-Dane-Relay-Sender (Postfix: X-Postfix-Queue-ID,
 *    X-Postfix-Sender), Original-Envelope-Id when ENVID
 *    was given (RFC 3464 §2.2.1), Arrival-Date), then per recipient
 *    Final-Recipient, Original-Recipient (ORCPT, else rfc822;recipient as
 *    Postfix writes it, §2.3.1), Action
 *    (failed | delayed | relayed), Status, Remote-MTA, Diagnostic-Code
 *    (`smtp;` with the remote reply when a server said it, else
 *    `x-dane-relay;`), Last-Attempt-Date, and for `delayed` Will-Retry-Until
 *    (RFC 3464 §2.3);
 * 3. the original: `message/rfc822` (the whole message) when `returned` is
 *    `full` (RET=FULL within the size limit, core/dsn-notify), else
 *    `text/rfc822-headers` (its header section only).
 *
 * The caller sends it from the null sender to the original envelope sender
 * and never for a null-sender message (no bounce for a bounce). Pure apart
 * from MimeNode's own random boundary.
 */
import MimeNode from 'nodemailer/lib/mime-node';
import { originalRecipientOf, type DsnKind } from '../core/dsn-notify.ts';
import type { QueueRecord, RecipientState } from './record.ts';

export interface DsnInput {
  kind?: DsnKind;
  record: QueueRecord;
  recipients: RecipientState[];
  /** The original message's header section (CRLF line ends, no blank line). */
  originalHeaders: string;
  /** The whole original message, when it is to be returned (RET=FULL). */
  originalMessage?: Buffer;
  reportingMta: string;
  now: number;
  /** For `delayed`: when the relay gives up (arrival + maximal lifetime). */
  retryUntil?: number;
}

function rfc822Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** Header field values must not carry CR/LF (they come from remote servers). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?').trim();
}

const SUBJECT: Record<DsnKind, string> = {
  failed: 'Undelivered Mail Returned to Sender',
  delayed: 'Delayed Mail (still being retried)',
  relayed: 'Successful Mail Delivery Report',
};

const INTRO: Record<DsnKind, string[]> = {
  failed: ["I'm sorry to have to inform you that your message could not", 'be delivered to one or more recipients.'],
  delayed: ['####################################################################', '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #', '####################################################################', '', 'Your message could not be delivered for more than the warning time.', 'It will be retried until it is older than the maximal queue lifetime.'],
  relayed: ['Your message was successfully delivered to the destination(s)', 'listed below. If the message was delivered to mailbox you will', 'receive no further notifications. Otherwise you may still receive', 'notifications of mail delivery errors from other systems.'],
};

function explanation(input: DsnInput, kind: DsnKind, returned: string): string {
  const lines = [`This is the mail system at host ${input.reportingMta}.`, '', ...INTRO[kind], returned, '', 'For further assistance, please send mail to postmaster.', '', '                   The mail system', ''];
  for (const r of input.recipients) {
    const text = kind === 'relayed' ? `delivery via ${r.relay ?? 'the next hop'}: ${r.diagnostic ?? 'relayed'}` : (r.diagnostic ?? 'delivery failed');
    lines.push(`<${r.address}>: ${oneLine(text)}`, '');
  }
  return lines.join('\r\n');
}

const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;
const FALLBACK_STATUS: Record<DsnKind, string> = { failed: '5.0.0', delayed: '4.0.0', relayed: '2.0.0' };

/** ORCPT as the client gave it, `addr-type;address` (RFC 3461 §4.2, RFC 3464 §2.3.1), as Postfix writes it. */
function originalRecipient(orcpt: string): string {
  return oneLine(orcpt);
}

function recipientFields(r: RecipientState, kind: DsnKind, retryUntil?: number): string {
  const status = r.dsn && STATUS.test(r.dsn) ? r.dsn : FALLBACK_STATUS[kind];
  const fields = [`Final-Recipient: rfc822; ${r.address}`];
  const orcpt = originalRecipientOf(r.address, r.orcpt);
  if (orcpt) fields.push(`Original-Recipient: ${originalRecipient(orcpt)}`);
  fields.push(`Action: ${kind}`, `Status: ${status}`);
  const mta = r.relay ? /^([^[\]:]+)/.exec(r.relay)?.[1] : undefined;
  if (mta) fields.push(`Remote-MTA: dns; ${mta}`);
  if (r.remoteReply) fields.push(`Diagnostic-Code: smtp; ${oneLine(r.remoteReply)}`);
  else if (kind !== 'relayed') fields.push(`Diagnostic-Code: x-dane-relay; ${oneLine(r.diagnostic ?? 'delivery failed')}`);
  if (r.lastAttemptAt !== undefined) fields.push(`Last-Attempt-Date: ${rfc822Date(r.lastAttemptAt)}`);
  if (kind === 'delayed' && retryUntil !== undefined) fields.push(`Will-Retry-Until: ${rfc822Date(retryUntil)}`);
  return fields.join('\r\n');
}

function deliveryStatus(input: DsnInput, kind: DsnKind): string {
  const perMessage = [`Reporting-MTA: dns; ${input.reportingMta}`, `X-Dane-Relay-Queue-ID: ${input.record.id}`, `X-Dane-Relay-Sender: rfc822; ${oneLine(input.record.sender)}`];
  if (input.record.envid !== undefined) perMessage.push(`Original-Envelope-Id: ${oneLine(input.record.envid)}`);
  perMessage.push(`Arrival-Date: ${rfc822Date(input.record.receivedAt)}`);
  return [perMessage.join('\r\n'), ...input.recipients.map((r) => recipientFields(r, kind, input.retryUntil))].join('\r\n\r\n') + '\r\n';
}

/** Builds the complete DSN message (headers and body, CRLF). */
export async function composeDsn(input: DsnInput): Promise<Buffer> {
  const kind = input.kind ?? 'failed';
  const full = input.originalMessage !== undefined;
  const root = new MimeNode('multipart/report', { hostname: input.reportingMta, newline: 'win' });
  root.setHeader('Content-Type', 'multipart/report; report-type=delivery-status');
  root.setHeader('From', `MAILER-DAEMON@${input.reportingMta}`);
  root.setHeader('To', input.record.sender);
  root.setHeader('Subject', SUBJECT[kind]);
  root.setHeader('Auto-Submitted', 'auto-replied');
  root.setHeader('Date', new Date(input.now));
  const returned = full ? 'The message is attached below.' : 'Its headers are attached below.';
  root.createChild('text/plain; charset=us-ascii').setHeader('Content-Description', 'Notification').setContent(explanation(input, kind, returned));
  root.createChild('message/delivery-status').setHeader('Content-Description', 'Delivery report').setContent(deliveryStatus(input, kind));
  const label = kind === 'failed' ? 'Undelivered Message' : kind === 'delayed' ? 'Delayed Message' : 'Message';
  if (full) {
    const original = input.originalMessage as Buffer;
    const part = root.createChild('message/rfc822').setHeader('Content-Description', label);
    // RFC 2046 §5.2.1: message/rfc822 is never base64 or quoted-printable; 8bit when it has to be.
    if (original.some((b) => b > 127)) part.setHeader('Content-Transfer-Encoding', '8bit');
    part.setContent(original);
  }
  else root.createChild('text/rfc822-headers').setHeader('Content-Description', `${label} Headers`).setContent(input.originalHeaders + '\r\n');
  return root.build();
}

/** The header section of a message (up to the first empty line), at most `limit` bytes. */
export function headerSection(head: Buffer, limit = 65_536): string {
  const text = head.subarray(0, limit).toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  return (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n/g, '\r\n');
}
