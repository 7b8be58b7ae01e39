/**
 * The `Received:` trace header prepended to every accepted message
 * (RFC 5321 section 4.4), in Postfix's layout:
 *
 *     Received: from client.helo ([127.0.0.1])
 *             by relay.example (dane-relay) with ESMTPS id 19A3F2C5B1E7D04A21
 *             for <rcpt@example.net>; Mon, 3 Nov 2026 10:00:00 +0000
 *
 * `for` is written only for a single recipient (no disclosure of the
 * others). Client-supplied text is stripped of anything that could break
 * the header. Returns the header with its CRLF.
 */
export interface ReceivedInput {
  helo: string;
  clientIp: string;
  myhostname: string;
  protocol: string;
  queueId: string;
  recipients: string[];
  tls?: { protocol: string; cipher: string } | undefined;
  now: number;
}

function clean(text: string): string {
  return text.replace(/[^\x21-\x7e\u0080-\uffff]/g, '').replace(/[()]/g, '') || 'unknown';
}

export function receivedHeader(r: ReceivedInput): string {
  const date = new Date(r.now).toUTCString().replace(/GMT$/, '+0000');
  const lines = [`Received: from ${clean(r.helo)} ([${clean(r.clientIp)}])`];
  if (r.tls) lines.push(`\t(using ${clean(r.tls.protocol)} with cipher ${clean(r.tls.cipher)})`);
  const only = r.recipients.length === 1 ? r.recipients[0] : undefined;
  lines.push(`\tby ${r.myhostname} (dane-relay) with ${r.protocol} id ${r.queueId}${only === undefined ? ';' : ''}`);
  lines.push(only !== undefined ? `\tfor <${clean(only)}>; ${date}` : `\t${date}`);
  return lines.join('\r\n') + '\r\n';
}
