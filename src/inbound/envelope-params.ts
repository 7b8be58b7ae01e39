/**
 * The DSN parameters of an envelope as smtp-server parsed them (RFC 3461
 * §4.1 NOTIFY, §4.2 ORCPT on RCPT TO; §4.3 RET, §4.4 ENVID on MAIL FROM),
 * in the queue record's shape (record.ts).
 *
 * smtp-server has already checked their syntax (NOTIFY values, NEVER alone,
 * ORCPT `addr-type;...`, RET FULL|HDRS) and decoded xtext (`+XX`), and it
 * refuses control characters in them; the values are stored decoded, so the
 * outbound side encodes them once. Pure; never throws: an unknown NOTIFY
 * value (there is none after smtp-server's check) is dropped.
 */
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { NewRecipient, QueueRecord, RecipientState } from '../queue/record.ts';

type Notify = NonNullable<RecipientState['notify']>[number];
const NOTIFY = new Set<Notify>(['NEVER', 'SUCCESS', 'FAILURE', 'DELAY']);

interface DsnEnvelope { dsn?: { ret?: string | null; envid?: string | null } }
interface DsnAddress { dsn?: { notify?: string[] | string; orcpt?: string } }

/** RET and ENVID of the transaction (MAIL FROM), when given. */
export function envelopeDsn(envelope: SMTPServerSession['envelope']): { ret?: QueueRecord['ret']; envid?: string } {
  const dsn = (envelope as unknown as DsnEnvelope).dsn;
  const ret = dsn?.ret === 'FULL' || dsn?.ret === 'HDRS' ? dsn.ret : undefined;
  const envid = typeof dsn?.envid === 'string' && dsn.envid !== '' ? dsn.envid : undefined;
  return { ...(ret ? { ret } : {}), ...(envid !== undefined ? { envid } : {}) };
}

/** One recipient with its NOTIFY and ORCPT, when given. */
export function recipientDsn(rcpt: SMTPServerAddress): NewRecipient {
  const dsn = (rcpt as unknown as DsnAddress).dsn;
  const raw = dsn?.notify === undefined ? [] : Array.isArray(dsn.notify) ? dsn.notify : String(dsn.notify).split(',');
  const notify = raw.map((n) => n.trim().toUpperCase()).filter((n): n is Notify => NOTIFY.has(n as Notify));
  const orcpt = typeof dsn?.orcpt === 'string' && dsn.orcpt.includes(';') ? dsn.orcpt : undefined;
  return { address: rcpt.address, ...(notify.length > 0 ? { notify } : {}), ...(orcpt !== undefined ? { orcpt } : {}) };
}
