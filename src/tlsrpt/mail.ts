/**
 * The mailto: form of a TLSRPT report (RFC 8460 §5.3), composed with
 * nodemailer's MIME builder and, when a key is configured, DKIM-signed with
 * nodemailer's signer (RFC 8460 §5.3 asks for DKIM-signed reports; an
 * unsigned report may be dropped by the receiver).
 *
 * Shape: `multipart/report; report-type="tlsrpt"` with
 * 1. text/plain: one paragraph for humans;
 * 2. application/tlsrpt+gzip, base64, attachment named per §5.1
 *    (`submitter!policy-domain!begin!end!report-id.json.gz`);
 * headers `TLS-Report-Domain` (the policy domain), `TLS-Report-Submitter`
 * (the domain of `contact-info`), Subject `Report Domain: D Submitter: S
 * Report-ID: <id>`, From = contact-info, Auto-Submitted: auto-generated.
 * The caller queues the message, envelope sender = `from`, through the
 * relay's own queue (DESIGN.md "TLSRPT").
 * Failure modes: a contact-info that is not an address, or a bad DKIM key,
 * throws (bad configuration).
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import DKIM from 'nodemailer/lib/dkim';
import MimeNode from 'nodemailer/lib/mime-node';
import { reportFileName, rfc3339, type ReportRange, type TlsrptReport } from './report.ts';

/** The usual DKIM header list plus the two TLSRPT headers (§5.3), so neither can be altered in transit. */
const SIGNED_HEADERS = 'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:TLS-Report-Domain:TLS-Report-Submitter:Auto-Submitted';

export interface DkimKey { domainName: string; keySelector: string; privateKey: string }

export interface ReportMailInput {
  report: TlsrptReport;
  policyDomain: string;
  range: ReportRange;
  /** The mailbox of the `rua=mailto:` URI. */
  to: string;
  now: number;
  dkim?: DkimKey | null;
}

function submitterOf(contact: string): string {
  const m = /^[^@\s]+@([^@\s]+)$/.exec(contact.replace(/^mailto:/i, ''));
  if (!m?.[1]) throw new Error(`tlsrpt.contact_info "${contact}" is not an e-mail address`);
  return m[1].toLowerCase();
}

function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

export async function composeReportMail(input: ReportMailInput): Promise<{ message: Buffer; from: string; fileName: string }> {
  const from = input.report['contact-info'].replace(/^mailto:/i, '');
  const submitter = submitterOf(from);
  const id = input.report['report-id'];
  const fileName = reportFileName(submitter, input.policyDomain, input.range, randomBytes(6).toString('hex'));
  const root = new MimeNode('multipart/report', { hostname: submitter, newline: 'win' });
  root.setHeader('Content-Type', 'multipart/report; report-type="tlsrpt"');
  root.setHeader('From', from);
  root.setHeader('To', input.to);
  root.setHeader('Subject', `Report Domain: ${input.policyDomain} Submitter: ${submitter} Report-ID: <${id}>`);
  root.setHeader('TLS-Report-Domain', input.policyDomain);
  root.setHeader('TLS-Report-Submitter', submitter);
  root.setHeader('Auto-Submitted', 'auto-generated');
  root.setHeader('Date', new Date(input.now));
  const range = `${rfc3339(input.range.start)} to ${rfc3339(input.range.end)}`;
  root.createChild('text/plain; charset=us-ascii')
    .setContent(`This is an aggregate TLS report (RFC 8460) from ${submitter} for ${input.policyDomain}, covering ${range}.\r\n`);
  root.createChild('application/tlsrpt+gzip', { filename: fileName })
    .setHeader('Content-Disposition', 'attachment')
    .setHeader('Content-Transfer-Encoding', 'base64')
    .setContent(gzipSync(JSON.stringify(input.report)));
  const built = await new Promise<Buffer>((resolve, reject) => root.build((err, buf) => (err ? reject(err) : resolve(buf))));
  if (!input.dkim) return { message: built, from, fileName };
  const signer = new DKIM({ ...input.dkim, headerFieldNames: SIGNED_HEADERS });
  return { message: await streamToBuffer(signer.sign(built)), from, fileName };
}
