/**
 * Stores one DATA stream durably: Received header + content, then the
 * record, as one queue file in `incoming/ID`, or `active/ID` when
 * `queueDir` says the queue takes it at once (spool.ts, queue-file.ts).
 * Only a `queued` result may be answered with 250.
 *
 * Contract: the whole stream is always consumed (smtp-server needs its end
 * to answer); after a violation (bare LF/CR, overlong line, oversize) the
 * rest is drained and discarded and nothing is left in the spool.
 * Results are values: `queued` | `rejected` (reply to send) | `io-error`
 * (reply 451 4.3.0) | `client-gone` (the connection closed or timed out
 * before the final dot: smtp-server destroys the stream with an error; the
 * half-written file is removed and nothing is queued — Postfix's "lost
 * connection after DATA"). Never rejects. Writes are batched by the spool's writer; a
 * `queued` result carries the record just written and, for a message of at
 * most KEEP_IN_MEMORY bytes, its content, so the scheduler can deliver it
 * without reading back what it just wrote (the files stay the source of truth
 * after any restart).
 *
 * Mail loops (RFC 5321 §6.3): a message that already carries
 * `inbound.hopcount_limit` `Received:` headers (ours would be one more) is
 * refused at the end of DATA with `554 5.4.6 Too many hops`, as Postfix's
 * cleanup does: refusing keeps the loop's bounce with the client that sent
 * it (no DSN from us, no backscatter) and nothing is queued.
 * The record keeps the envelope's DSN parameters (RFC 3461, envelope-params.ts),
 * REQUIRETLS (RFC 8689 §4.1) and whether a `TLS-Required: No` header was
 * present (RFC 8689 §5; ignored when REQUIRETLS was given, §4.1).
 */
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { RelayConfig } from '../config/schema.ts';
import { newRecord, type QueueRecord } from '../queue/record.ts';
import type { MessageWriter, NewMessageDir, Spool } from '../queue/spool.ts';
import { LineChecker } from './line-check.ts';
import { receivedHeader } from './received.ts';
import { HeaderScanner } from './header-scan.ts';
import { envelopeDsn, recipientDsn } from './envelope-params.ts';

export type StoreResult =
  | { kind: 'queued'; id: string; dir: NewMessageDir; size: number; sender: string; nrcpt: number; messageId: string; record: QueueRecord; body?: Buffer }
  | { kind: 'client-gone'; error: unknown }
  | { kind: 'rejected'; reason: string; reply: { code: number; text: string } }
  | { kind: 'io-error'; error: unknown; reply: { code: number; text: string } };

export interface StoreInput {
  stream: SMTPServerDataStream;
  session: SMTPServerSession;
  spool: Spool;
  config: RelayConfig;
  now: () => number;
  /** Asked when the message is complete: the queue directory it is committed into (default `incoming`). */
  queueDir?: () => NewMessageDir;
}

const IO_ERROR = { code: 451, text: '4.3.0 Error: queue file write error' };
const TOO_MANY_HOPS = { code: 554, text: '5.4.6 Too many hops' };
const KEEP_IN_MEMORY = 64 * 1024;

function tlsInfo(session: SMTPServerSession): { protocol: string; cipher: string } | undefined {
  const t = session.tlsOptions;
  return t ? { protocol: t.version ?? 'TLS', cipher: t.name ?? 'unknown' } : undefined;
}

/** Consumes the rest of the stream; false when it ended in an error (client gone). */
async function drain(stream: SMTPServerDataStream): Promise<boolean> {
  try {
    for await (const _ of stream) void _;
    return true;
  } catch {
    return false;
  }
}

/** Writes header + stream to `writer` while checking lines and size; always drains the stream. */
async function copyChecked(stream: SMTPServerDataStream, writer: MessageWriter, header: Buffer, checker: LineChecker, max: number, messageId: HeaderScanner): Promise<{ size: number; oversize: boolean; writeError: unknown; body?: Buffer }> {
  let size = header.length;
  let writeError: unknown;
  let oversize = false;
  let kept: Buffer[] | undefined = [header];
  const write = async (chunk: Buffer): Promise<void> => {
    try {
      await writer.write(chunk);
    } catch (err) {
      writeError = err;
    }
  };
  await write(header);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (writeError !== undefined || checker.feed(chunk) || oversize) continue;
    messageId.feed(chunk);
    size += chunk.length;
    if (size - header.length > max) {
      oversize = true;
      continue;
    }
    if (kept && size <= KEEP_IN_MEMORY) kept.push(chunk);
    else kept = undefined;
    await write(chunk);
  }
  return { size, oversize, writeError, ...(kept ? { body: Buffer.concat(kept, size) } : {}) };
}

/** The queue record of a stored message: envelope, DSN parameters, REQUIRETLS or TLS-Required: No. */
function recordOf(session: SMTPServerSession, m: { id: string; sender: string; now: number; size: number; eightBit: boolean; headers: HeaderScanner }): QueueRecord {
  const eightBit = session.envelope.bodyType === '8bitmime' || m.eightBit;
  const helo = session.hostNameAppearsAs;
  const client = { address: session.remoteAddress, ...(helo ? { helo } : {}), ...(typeof session.user === 'string' ? { user: session.user } : {}) };
  const requireTls = session.envelope.requireTLS === true;
  return newRecord({
    id: m.id, sender: m.sender, recipients: session.envelope.rcptTo.map(recipientDsn), receivedAt: m.now, size: m.size, smtputf8: session.envelope.smtpUtf8 === true, eightBit,
    client, ...envelopeDsn(session.envelope),
    // RFC 8689 §4.1: with REQUIRETLS the TLS-Required header field is ignored.
    ...(requireTls ? { requireTls } : m.headers.tlsRequiredNo() ? { tlsRequiredNo: true } : {}),
  });
}

export async function storeMessage(input: StoreInput): Promise<StoreResult> {
  const { stream, session, spool, config } = input;
  const now = input.now();
  const sender = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
  const recipients = session.envelope.rcptTo.map((r) => r.address);
  let writer: MessageWriter;
  try {
    writer = await spool.beginMessage(now);
  } catch (error) {
    if (!(await drain(stream))) return { kind: 'client-gone', error };
    return { kind: 'io-error', error, reply: IO_ERROR };
  }
  const id = writer.id;
  const header = Buffer.from(receivedHeader({ helo: session.hostNameAppearsAs || 'unknown', clientIp: session.remoteAddress, myhostname: config.myhostname, protocol: session.transmissionType || 'SMTP', queueId: id, recipients, tls: tlsInfo(session), now }), 'utf8');
  const checker = new LineChecker(config.inbound.max_line_length);
  const max = config.inbound.max_message_size;
  let copied: Awaited<ReturnType<typeof copyChecked>>;
  const messageId = new HeaderScanner();
  try {
    copied = await copyChecked(stream, writer, header, checker, max, messageId);
  } catch (error) {
    await writer.abort().catch(() => undefined);
    return { kind: 'client-gone', error };
  }
  const { size, oversize, writeError, body } = copied;
  const violation = checker.finish();
  if (oversize || stream.sizeExceeded) {
    await writer.abort();
    return { kind: 'rejected', reason: 'oversize', reply: { code: 552, text: `5.3.4 Error: message exceeds fixed maximum message size ${max}` } };
  }
  if (violation) {
    await writer.abort();
    return { kind: 'rejected', reason: violation.kind, reply: violation.reply };
  }
  if (messageId.receivedCount() >= config.inbound.hopcount_limit) {
    await writer.abort();
    return { kind: 'rejected', reason: 'too-many-hops', reply: TOO_MANY_HOPS };
  }
  let record: QueueRecord;
  let dir: NewMessageDir;
  try {
    if (writeError !== undefined) throw writeError;
    record = recordOf(session, { id, sender, now, size, eightBit: checker.eightBit, headers: messageId });
    dir = input.queueDir?.() ?? 'incoming';
    await writer.commit(record, dir);
  } catch (error) {
    await writer.abort();
    return { kind: 'io-error', error, reply: IO_ERROR };
  }
  return { kind: 'queued', id, dir, size, sender, nrcpt: recipients.length, messageId: messageId.value(), record, ...(body ? { body } : {}) };
}
