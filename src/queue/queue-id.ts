/**
 * Queue ids: upper-case hex, time-ordered, unique in one spool: milliseconds
 * since the epoch + a 24-bit sequence that starts at a random value and
 * counts up for every id this process makes, e.g. `19A3F2C5B1E7D04A21`
 * (`queueIdTime` reads the time back). Two ids of one process collide only
 * if 2^24 ids are made within one millisecond value (the clock may step
 * back); two processes never make ids for one spool at once (the spool's
 * pid lock). A new message is renamed into place by its id, so uniqueness
 * is what keeps one message from replacing another. `isQueueId` is the only
 * check the file layer needs before using an id in a path (no `/`, no `..`).
 */
import { randomInt } from 'node:crypto';

const SEQ_SPACE = 0x1000000;
let seq = randomInt(SEQ_SPACE);

export function newQueueId(nowMs: number = Date.now()): string {
  seq = (seq + 1) % SEQ_SPACE;
  return (nowMs.toString(16) + seq.toString(16).padStart(6, '0')).toUpperCase();
}

export function isQueueId(value: string): boolean {
  return /^[0-9A-F]{6,40}$/.test(value);
}

/** The acceptance time (ms) in an id made by `newQueueId`; undefined for any other id. */
export function queueIdTime(id: string): number | undefined {
  if (!isQueueId(id) || id.length < 7) return undefined;
  const ms = parseInt(id.slice(0, -6), 16);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
