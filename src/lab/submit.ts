/**
 * Submits one lab message to the relay's inbound listener over SMTP on
 * loopback (the relay is exercised end to end, as a client would use it).
 *
 * Contract: never throws; resolves with the queue reply or the error. The
 * sender defaults to the null sender so bounced scenarios create no DSN
 * traffic of their own. Bounded by the connection/greeting/socket timeouts.
 * With `requireTls` the submission uses STARTTLS (required; the relay's lab
 * certificate is not checked: both ends are the lab) and MAIL FROM …
 * REQUIRETLS (RFC 8689); otherwise plaintext, as before.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { assertLoopback } from './shared-port.ts';

export interface SubmitInput {
  host: string;
  port: number;
  from: string;
  to: string;
  subject: string;
  /** Extra header lines without CRLF, e.g. `X-Lab-Scenario: s01-ee-311`. */
  headers?: string[];
  requireTls?: boolean;
}

export type SubmitResult = { kind: 'queued'; response: string } | { kind: 'error'; message: string };

function messageText(input: SubmitInput): string {
  const lines = [
    `From: <${input.from || 'lab@relay.lab.test'}>`,
    `To: <${input.to}>`,
    `Subject: ${input.subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@relay.lab.test>`,
    ...(input.headers ?? []),
    '',
    `DANE lab message for ${input.to}.`,
    '',
  ];
  return lines.join('\r\n');
}

export function submitMessage(input: SubmitInput): Promise<SubmitResult> {
  assertLoopback(input.host);
  return new Promise((resolve) => {
    const conn = new SMTPConnection({
      host: input.host, port: input.port, name: 'lab-submitter',
      ...(input.requireTls ? { requireTLS: true, tls: { rejectUnauthorized: false } } : { ignoreTLS: true }),
      connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000,
    });
    let done = false;
    const finish = (r: SubmitResult): void => {
      if (done) return;
      done = true;
      try { conn.quit(); } catch { /* closed */ }
      resolve(r);
    };
    conn.on('error', (err: Error) => finish({ kind: 'error', message: err.message }));
    conn.connect(() => {
      conn.send({ from: input.from, to: [input.to], ...(input.requireTls ? { requireTLSExtensionEnabled: true } : {}) }, messageText(input), (err, info) => {
        if (err) finish({ kind: 'error', message: err.message });
        else finish({ kind: 'queued', response: info.response });
      });
    });
  });
}
