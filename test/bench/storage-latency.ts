/**
 * The disk's share of accept latency: how long the relay's spool takes to
 * store one message durably (`Spool.beginMessage` → `write` → `commit`:
 * open the previous message's file in tmp/ (a spare, spare-files.ts; the
 * first message creates one), write over it, rename it into incoming/,
 * fsync it),
 * one message at a time with a pause between them, so nothing queues and
 * only the filesystem is measured. The same call inbound makes before it
 * answers `250`; no SMTP, no delivery.
 *
 *   node bin/run-ts.js test/bench/storage-latency.ts [--messages N] [--size BYTES] [--pause MS] [--dir DIR]
 *
 * Defaults: 1,500 messages of 2,400 bytes (a 2,000-byte benchmark message
 * with its Received header and record), 5 ms apart, in a temporary spool
 * under DIR (the system's temp directory; give the filesystem the spool
 * will live on). Prints ONE JSON line: p50, p99 and max in ms of the whole
 * store and of the commit alone (record, rename, fsync). Bounded
 * by N; the spool is removed at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newRecord } from '../../src/queue/record.ts';
import { Spool } from '../../src/queue/spool.ts';
import { percentile } from './report.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1500' },
    size: { type: 'string', default: '2400' },
    pause: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const n = Number(values.messages);
const body = Buffer.alloc(Number(values.size), 'x');
const pauseMs = Number(values.pause);

const root = await mkdtemp(join(values.dir, 'dane-relay-storage-'));
const spool = await Spool.open(root);
const store: number[] = [];
const commit: number[] = [];
try {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const w = await spool.beginMessage(Date.now());
    await w.write(body);
    const t1 = performance.now();
    await w.commit(newRecord({ id: w.id, sender: 'a@src.test', recipients: ['b@dst.test'], receivedAt: Date.now(), size: body.length, smtputf8: false, eightBit: false }));
    const t2 = performance.now();
    store.push(t2 - t0);
    commit.push(t2 - t1);
    // With its size, as delivery removes it: the next message is written over its file (spare-files.ts).
    await spool.remove(w.id, 'incoming', body.length);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
} finally {
  await spool.close();
  await rm(root, { recursive: true, force: true });
}
const fig = (a: number[]) => {
  const sorted = a.slice().sort((x, y) => x - y);
  return { p50: +percentile(sorted, 50).toFixed(2), p99: +percentile(sorted, 99).toFixed(2), max: +(sorted.at(-1) ?? NaN).toFixed(2) };
};
console.log(JSON.stringify({ messages: n, bytes: body.length, dir: values.dir, storeMs: fig(store), commitMs: fig(commit) }));
