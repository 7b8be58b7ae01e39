/** Shared helpers for the queue tests: temp spools, stored messages, scripted deliverers. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { Spool, type NewMessageDir } from '../../src/queue/spool.ts';
import { newRecord } from '../../src/queue/record.ts';
import type { Deliverer, DeliveryJob, RecipientOutcome } from '../../src/queue/deliverer.ts';
import type { SchedulerSettings } from '../../src/queue/scheduler.ts';

export async function tempSpool(): Promise<{ spool: Spool; dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dane-relay-spool-'));
  const spool = await Spool.open(dir);
  return { spool, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function storeMessage(spool: Spool, sender: string, recipients: string[], opts: { now?: number; body?: string; into?: NewMessageDir } = {}): Promise<string> {
  const now = opts.now ?? Date.now();
  const w = await spool.beginMessage(now);
  const id = w.id;
  const body = Buffer.from(opts.body ?? `From: ${sender || 'MAILER-DAEMON'}\r\nTo: ${recipients.join(', ')}\r\nSubject: test ${id}\r\nMessage-ID: <${id}@test>\r\n\r\nhello\r\n`);
  await w.write(body);
  await w.commit(newRecord({ id, sender, recipients, receivedAt: now, size: body.length, smtputf8: false, eightBit: false }), opts.into);
  return id;
}

export function settings(overrides: Partial<SchedulerSettings> = {}): SchedulerSettings {
  return {
    minBackoffMs: 300_000,
    maxBackoffMs: 4_000_000,
    maxLifetimeMs: 5 * 86_400_000,
    bounceLifetimeMs: 5 * 86_400_000,
    concurrency: 20,
    destinationConcurrency: 5,
    scanIntervalMs: 60_000,
    myhostname: 'relay.test',
    ...overrides,
  };
}

export interface RecordedCall {
  job: Omit<DeliveryJob, 'openBody'>;
  body: string;
}

/** A deliverer answering with `decide(job, recipient)` and recording every call with its body. */
export function scriptedDeliverer(decide: (job: DeliveryJob, rcpt: string) => Omit<RecipientOutcome, 'recipient'>): Deliverer & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    async deliver(job) {
      const content = job.openBody();
      const body = Buffer.isBuffer(content) ? content.toString('utf8') : await text(content);
      const { openBody: _o, ...rest } = job;
      calls.push({ job: structuredClone(rest), body });
      return job.recipients.map((recipient) => ({ recipient, ...decide(job, recipient) }));
    },
    async close() {},
  };
}

export const SENT = { status: 'sent', dsn: '2.0.0', diagnostic: '250 2.0.0 Ok', relay: 'mx.test[127.0.0.1]:25' } as const;
export const DEFER = { status: 'deferred', dsn: '4.4.1', diagnostic: 'connect to mx.test[127.0.0.1]:25: Connection refused' } as const;
export const REJECT = {
  status: 'bounced',
  dsn: '5.1.1',
  diagnostic: 'host mx.test[127.0.0.1] said: 550 5.1.1 No such user',
  relay: 'mx.test[127.0.0.1]:25',
  remoteReply: '550 5.1.1 No such user',
} as const;

/** Polls `cond` every 5 ms, at most `limitMs`; throws when it never holds. */
export async function until(cond: () => boolean, limitMs = 5000): Promise<void> {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited >= limitMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
