/**
 * `dane-relay queue list|show ID|flush|delete ID…|hold ID…|release ID…|requeue ID…
 *  [--spool DIR] [--config FILE]` — mailq / postqueue -f / postsuper -d, -h,
 * -H, -r on the spool files, for a running or a stopped relay
 * (queue/admin.ts). delete, hold, release and requeue are written to the
 * relay's `log.file` as Postfix's postsuper does (`QID: removed`,
 * `QID: placed on hold`, `QID: released from hold`, `QID: requeued`).
 *
 * `list` prints Postfix's mailq layout: `*` after the id marks a message
 * being delivered (active), `!` one on hold, `#` a corrupt file; deferred
 * recipients show their last reason in parentheses. `--json` prints the
 * records. `flush` creates `<spool>/flush`, which a running relay notices
 * within a second (a stopped relay at its next start). `show` prints times
 * as ISO 8601 (UTC). Exit status: 0 ok, 1 a message not found or not
 * movable / no spool, 78 bad config.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigError, loadConfig } from '../config/load.ts';
import { adminLogger } from '../log/logger.ts';
import {
  deleteMessage, findMessage, holdMessage, listQueue, openExistingSpool, releaseMessage, requestFlush, requeueMessage, SpoolMissingError,
  type AdminOutcome, type QueueEntry,
} from '../queue/admin.ts';
import type { Spool } from '../queue/spool.ts';

export interface QueueCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  setExitCode: (code: number) => void;
}

interface QueueFlags {
  spool?: string;
  config?: string;
  json?: boolean;
}

const processIo: QueueCliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  setExitCode: (c) => void (process.exitCode = c),
};

const MARK: Record<string, string> = { active: '*', hold: '!', corrupt: '#', incoming: ' ', deferred: ' ' };

function arrival(ms: number): string {
  const [day, mon, date, , time] = new Date(ms).toString().split(' ');
  return `${day} ${mon} ${String(Number(date)).padStart(2)} ${time}`;
}

export function formatList(entries: QueueEntry[]): string {
  if (entries.length === 0) return 'Mail queue is empty\n';
  const out = ['-Queue ID-          --Size-- ----Arrival Time---- -Sender/Recipient-------'];
  let bytes = 0;
  for (const e of entries) {
    if (e.kind === 'corrupt') {
      out.push(`${(e.id + MARK.corrupt).padEnd(20)}${'?'.padStart(8)} ${'(corrupt queue file)'.padEnd(20)}  ${e.reason}`, '');
      continue;
    }
    const r = e.record;
    bytes += r.size;
    out.push(`${(e.id + (MARK[e.dir] ?? ' ')).padEnd(20)}${String(r.size).padStart(8)} ${arrival(r.receivedAt)}  ${r.sender || 'MAILER-DAEMON'}`);
    for (const rc of r.recipients) {
      if (rc.status === 'sent' || rc.status === 'bounced') continue;
      if (rc.status === 'deferred' && rc.diagnostic) out.push(`${' '.repeat(50)}(${rc.diagnostic})`);
      out.push(`${' '.repeat(50)}${rc.address}`);
    }
    out.push('');
  }
  const n = entries.length;
  out.push(`-- ${Math.ceil(bytes / 1024)} Kbytes in ${n} Request${n === 1 ? '' : 's'}.`);
  return out.join('\n') + '\n';
}

interface Target { spool: Spool; log: Logger | undefined }

async function targetFor(flags: QueueFlags): Promise<Target> {
  const config = loadConfig(flags.config, { spool: flags.spool });
  return { spool: await openExistingSpool(config.spool), log: adminLogger(config.log, config.myhostname) };
}

/** Epoch-millisecond fields of a record (`receivedAt`, `nextAttemptAt`, …) as ISO 8601 for people. */
function humanTimes(key: string, value: unknown): unknown {
  return /At$/.test(key) && typeof value === 'number' ? new Date(value).toISOString() : value;
}

async function show(spool: Spool, id: string, io: QueueCliIo): Promise<number> {
  const entry = await findMessage(spool, id);
  if (!entry) {
    io.stderr(`dane-relay: queue: ${id}: no such message\n`);
    return 1;
  }
  io.stdout(`*** ENVELOPE RECORDS ${entry.dir}/${id} ***\n`);
  io.stdout(entry.kind === 'ok' ? JSON.stringify(entry.record, humanTimes, 2) + '\n' : `corrupt: ${entry.reason}\n`);
  io.stdout('*** MESSAGE CONTENTS ***\n');
  const content = entry.kind === 'ok' ? spool.readContent(entry.dir, id, entry.record.size) : readFile(spool.path(entry.dir, id));
  io.stdout((await content.catch(() => Buffer.from('(queue file unreadable)\n'))).toString('utf8'));
  io.stdout('*** END OF MESSAGE ***\n');
  return 0;
}

type AdminAction = (spool: Spool, id: string) => Promise<AdminOutcome>;

/** What each postsuper-like command does, and the words it logs. */
const ADMIN: Record<string, { action: AdminAction; done: string; describe: string }> = {
  delete: { action: async (s, id) => ((await deleteMessage(s, id)) ? { kind: 'done', from: 'deferred' } : { kind: 'missing' }), done: 'removed', describe: 'delete messages (postsuper -d)' },
  hold: { action: holdMessage, done: 'placed on hold', describe: 'put messages on hold: never delivered until released (postsuper -h)' },
  release: { action: (s, id) => releaseMessage(s, id), done: 'released from hold', describe: 'release held messages, due now (postsuper -H)' },
  requeue: { action: requeueMessage, done: 'requeued', describe: 'requeue messages (also from hold), due now (postsuper -r)' },
};

function refusal(id: string, out: AdminOutcome): string {
  if (out.kind === 'active') return `${id}: being delivered now; try again after this attempt`;
  if (out.kind === 'not-held') return `${id}: not on hold (in ${out.dir}/)`;
  return `${id}: no such message`;
}

async function administer(target: Target, word: string, ids: string[], io: QueueCliIo): Promise<number> {
  const what = ADMIN[word];
  if (!what) return 2;
  let status = 0;
  for (const id of ids) {
    const out = await what.action(target.spool, id);
    if (out.kind !== 'done') {
      io.stderr(`dane-relay: queue: ${refusal(id, out)}\n`);
      status = 1;
      continue;
    }
    target.log?.info({ event: 'queue-admin', qid: id, action: word }, `${id}: ${what.done}`);
    io.stdout(`${id}: ${what.done}\n`);
  }
  return status;
}

async function run(flags: QueueFlags, io: QueueCliIo, action: (spool: Spool, target: Target) => Promise<number>): Promise<void> {
  try {
    const target = await targetFor(flags);
    io.setExitCode(await action(target.spool, target));
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof SpoolMissingError)) throw err;
    io.stderr(`dane-relay: ${err.message}\n`);
    io.setExitCode(err instanceof ConfigError ? 78 : 1);
  }
}

function common(cmd: Command): Command {
  return cmd.option('--spool <dir>', 'queue directory (default: from the config)').option('-c, --config <file>', 'YAML configuration file');
}

export function registerQueue(program: Command, io: QueueCliIo = processIo): Command {
  const queue = program.command('queue').description('inspect and manage the queue (like mailq, postqueue, postsuper)');
  common(queue.command('list').description('list queued messages (mailq)').option('--json', 'print the queue records as JSON')).action(async (flags: QueueFlags) =>
    run(flags, io, async (spool) => {
      const entries = await listQueue(spool);
      io.stdout(flags.json ? JSON.stringify(entries, null, 2) + '\n' : formatList(entries));
      return 0;
    }),
  );
  common(queue.command('show').argument('<id>', 'queue id').description('print a message: envelope, recipient states, content')).action(async (id: string, flags: QueueFlags) => run(flags, io, (spool) => show(spool, id, io)));
  common(queue.command('flush').description('retry every deferred message now (postqueue -f)')).action(async (flags: QueueFlags) =>
    run(flags, io, async (spool) => {
      await requestFlush(spool);
      io.stdout(`flush requested (${spool.flushTrigger}); a running relay retries within a second, a stopped one at its next start\n`);
      return 0;
    }),
  );
  for (const [word, what] of Object.entries(ADMIN)) {
    common(queue.command(word).argument('<id...>', 'queue ids').description(what.describe)).action(async (ids: string[], flags: QueueFlags) =>
      run(flags, io, (_spool, target) => administer(target, word, ids, io)),
    );
  }
  return queue;
}
