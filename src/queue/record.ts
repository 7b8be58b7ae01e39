/**
 * The control record: the envelope and per-recipient delivery state of one
 * message, as one line of JSON stored after its content in the queue file
 * (queue-file.ts).
 *
 * Contract: `parseRecord` never throws; text that is not a valid version-1
 * record is `{ kind: 'corrupt', reason }` (the spool then moves the file to
 * `corrupt/`). Recipient status follows Postfix: `pending` (never tried),
 * `deferred` (temporary failure, with reason and next attempt), `sent` and
 * `bounced` (final). `reported` marks a bounced recipient whose DSN was
 * already queued, so a restart does not lose it and seldom repeats it.
 *
 * Delivery status notification requests (RFC 3461) and REQUIRETLS (RFC 8689)
 * are kept as they were received: per message `ret` (RET=FULL|HDRS), `envid`
 * (ENVID, xtext-decoded), `requireTls` (MAIL FROM REQUIRETLS),
 * `tlsRequiredNo` (a `TLS-Required: No` header, RFC 8689 §5); per recipient
 * `notify` (NOTIFY list; absent = not given) and `orcpt` (ORCPT as
 * `addr-type;address`, decoded). `action: 'relayed'` marks a recipient sent to
 * a next hop that did not offer DSN (RFC 3461 §5.2.2), `delayWarned` one whose
 * delay warning was queued. All these fields are optional: records written
 * before they existed load unchanged (the format stays version 1; an older
 * relay reading a newer record ignores them, as zod drops unknown keys).
 */
import { z } from 'zod';

const recipientSchema = z.object({
  address: z.string(),
  status: z.enum(['pending', 'sent', 'deferred', 'bounced']),
  dsn: z.string().optional(),
  diagnostic: z.string().optional(),
  relay: z.string().optional(),
  remoteReply: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  lastAttemptAt: z.number().optional(),
  nextAttemptAt: z.number().optional(),
  expired: z.boolean().optional(),
  reported: z.boolean().optional(),
  notify: z.array(z.enum(['NEVER', 'SUCCESS', 'FAILURE', 'DELAY'])).optional(),
  orcpt: z.string().optional(),
  action: z.literal('relayed').optional(),
  delayWarned: z.boolean().optional(),
});

const recordSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(/^[0-9A-F]{6,40}$/),
  sender: z.string(),
  receivedAt: z.number(),
  size: z.number().int().nonnegative(),
  smtputf8: z.boolean(),
  eightBit: z.boolean(),
  client: z.object({ address: z.string(), helo: z.string().optional(), user: z.string().optional() }).optional(),
  ret: z.enum(['FULL', 'HDRS']).optional(),
  envid: z.string().optional(),
  requireTls: z.boolean().optional(),
  tlsRequiredNo: z.boolean().optional(),
  /** Message-level pass counter (1 after the first delivery pass). */
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: z.number(),
  recipients: z.array(recipientSchema).min(1),
});

export type RecipientState = z.infer<typeof recipientSchema>;
export type QueueRecord = z.infer<typeof recordSchema>;

export type ParsedRecord = { kind: 'ok'; record: QueueRecord } | { kind: 'corrupt'; reason: string };

export function serializeRecord(record: QueueRecord): Buffer {
  return Buffer.from(JSON.stringify(record) + '\n', 'utf8');
}

export function parseRecord(text: string, expectedId?: string): ParsedRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { kind: 'corrupt', reason: `not JSON: ${(err as Error).message}` };
  }
  const result = recordSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { kind: 'corrupt', reason: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  if (expectedId !== undefined && result.data.id !== expectedId) return { kind: 'corrupt', reason: `id ${result.data.id} in file ${expectedId}` };
  return { kind: 'ok', record: result.data };
}

/** Still to be delivered: never tried (`pending`) or tried and `deferred`. */
export function isUndelivered(r: Pick<RecipientState, 'status'>): boolean {
  return r.status === 'pending' || r.status === 'deferred';
}

/** The next-hop domain of an address (lower case), '' when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** A recipient with its DSN request (RFC 3461 §4.1, §4.2). */
export interface NewRecipient {
  address: string;
  notify?: RecipientState['notify'];
  orcpt?: string;
}

export interface NewMessage {
  id: string;
  sender: string;
  recipients: Array<string | NewRecipient>;
  receivedAt: number;
  size: number;
  smtputf8: boolean;
  eightBit: boolean;
  client?: QueueRecord['client'];
  ret?: QueueRecord['ret'];
  envid?: string;
  requireTls?: boolean;
  tlsRequiredNo?: boolean;
}

function newRecipient(r: string | NewRecipient): RecipientState {
  if (typeof r === 'string') return { address: r, status: 'pending', attempts: 0 };
  return { address: r.address, status: 'pending', attempts: 0, ...(r.notify ? { notify: r.notify } : {}), ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}) };
}

/** A fresh record: every recipient pending, due now. */
export function newRecord(m: NewMessage): QueueRecord {
  return {
    version: 1,
    id: m.id,
    sender: m.sender,
    receivedAt: m.receivedAt,
    size: m.size,
    smtputf8: m.smtputf8,
    eightBit: m.eightBit,
    ...(m.client ? { client: m.client } : {}),
    ...(m.ret ? { ret: m.ret } : {}),
    ...(m.envid !== undefined ? { envid: m.envid } : {}),
    ...(m.requireTls ? { requireTls: true } : {}),
    ...(m.tlsRequiredNo ? { tlsRequiredNo: true } : {}),
    attempts: 0,
    nextAttemptAt: m.receivedAt,
    recipients: m.recipients.map(newRecipient),
  };
}
