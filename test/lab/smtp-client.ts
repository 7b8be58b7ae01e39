/**
 * Test helper: send one message with nodemailer's SMTPConnection and report
 * what happened, as a value (never throws).
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface SendOptions {
  host: string;
  port: number;
  requireTLS?: boolean;
  opportunisticTLS?: boolean;
  ignoreTLS?: boolean;
  servername?: string;
  to?: string;
  body?: string;
  ca?: string;
  rejectUnauthorized?: boolean;
}

export type SendResult =
  | { kind: 'sent'; secure: boolean; response: string; peerCertSha256: string | null }
  | { kind: 'error'; code: string; message: string; responseCode?: number };

export function sendOne(o: SendOptions): Promise<SendResult> {
  return new Promise((resolve) => {
    const conn = new SMTPConnection({
      host: o.host, port: o.port, name: 'lab-client',
      requireTLS: o.requireTLS, opportunisticTLS: o.opportunisticTLS, ignoreTLS: o.ignoreTLS,
      servername: o.servername,
      connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 5000,
      tls: { rejectUnauthorized: o.rejectUnauthorized ?? false, ca: o.ca },
    } as SMTPConnection.Options);
    let done = false;
    const finish = (r: SendResult): void => {
      if (done) return;
      done = true;
      try { conn.close(); } catch { /* already closed */ }
      resolve(r);
    };
    conn.on('error', (err: SMTPConnection.SMTPError) => finish({ kind: 'error', code: String(err.code ?? 'EUNKNOWN'), message: err.message, responseCode: err.responseCode }));
    conn.connect(() => {
      const sock = (conn as unknown as { _socket?: { getPeerX509Certificate?: () => { fingerprint256: string } | undefined } })._socket;
      const peer = conn.secure && sock?.getPeerX509Certificate ? sock.getPeerX509Certificate() : undefined;
      const sha = peer ? peer.fingerprint256.replace(/:/g, '').toLowerCase() : null;
      conn.send({ from: 'sender@lab.test', to: [o.to ?? 'rcpt@dest.lab.test'] }, o.body ?? 'Subject: lab\r\n\r\nhello\r\n', (err, info) => {
        if (err) finish({ kind: 'error', code: String((err as SMTPConnection.SMTPError).code ?? 'EUNKNOWN'), message: err.message, responseCode: (err as SMTPConnection.SMTPError).responseCode });
        else finish({ kind: 'sent', secure: conn.secure, response: info.response, peerCertSha256: sha });
      });
    });
  });
}
