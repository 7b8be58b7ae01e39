/**
 * What a start does on the spool, with a backlog of N messages in
 * incoming/: `Spool.recover()` (active/ back to incoming/, tmp/ emptied)
 * before the relay listens, then `setAsideTorn()` (the torn-file check that
 * reads every queued file once per kernel boot) while it already listens
 * and before the backlog is delivered.
 *
 *   node bin/run-ts.js test/bench/recovery-time.ts [--messages N] [--size BYTES] [--dir DIR] [--cold]
 *
 * Defaults: 20,000 messages of 2,400 bytes in a temporary spool under DIR
 * (the system's temp directory; give the filesystem the spool will live
 * on). Three starts are timed: the first of a boot (`checked-boot` names
 * another boot: every file is read), the same once more, and a second start
 * in the same boot (the check is skipped). With `--cold` (root only) the
 * page cache is dropped before each (`sync; echo 3 > drop_caches`), as after
 * a reboot. Prints ONE JSON line: for each start, ms until the relay would
 * listen (`listen`) and until the backlog would be delivered (`backlog`).
 * Bounded by N; the spool is removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newRecord } from '../../src/queue/record.ts';
import { Spool } from '../../src/queue/spool.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    size: { type: 'string', default: '2400' },
    dir: { type: 'string', default: tmpdir() },
    cold: { type: 'boolean', default: false },
  },
});
const n = Number(values.messages);
const body = Buffer.alloc(Number(values.size), 'x');

async function store(spool: Spool): Promise<void> {
  const w = await spool.beginMessage(Date.now());
  await w.write(body);
  await w.commit(newRecord({ id: w.id, sender: 'a@src.test', recipients: ['b@dst.test'], receivedAt: Date.now(), size: body.length, smtputf8: false, eightBit: false }));
}

const root = await mkdtemp(join(values.dir, 'dane-relay-recovery-'));
const spool = await Spool.open(root);
const timed: Record<string, { listen: number; backlog: number }> = {};
try {
  // 64 commits in flight at a time, as many sessions would.
  for (let i = 0; i < n; i += 64) await Promise.all(Array.from({ length: Math.min(64, n - i) }, () => store(spool)));
  for (const [label, boot] of [['firstOfBoot', 'boot-1'], ['newBootAgain', 'boot-2'], ['sameBoot', 'boot-2']] as const) {
    if (values.cold) execFileSync('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches']);
    const t0 = performance.now();
    await spool.recover();
    const t1 = performance.now();
    await spool.setAsideTorn(Promise.resolve(boot));
    timed[label] = { listen: +(t1 - t0).toFixed(1), backlog: +(performance.now() - t0).toFixed(1) };
  }
} finally {
  await spool.close();
  await rm(root, { recursive: true, force: true });
}
console.log(JSON.stringify({ messages: n, bytes: body.length, dir: values.dir, cold: values.cold, ms: timed }));
