/**
 * Queue ids: upper-case hex, time-ordered, unique enough to never collide in
 * one spool (milliseconds since the epoch + 24 random bits), e.g.
 * `19A3F2C5B1E7D04A21` (`queueIdTime` reads the time back). `isQueueId` is the only check the file layer needs
 * before using an id in a path (no `/`, no `..`).
 */
import { randomBytes } from 'node:crypto';

export function newQueueId(nowMs: number = Date.now()): string {
  return (nowMs.toString(16) + randomBytes(3).toString('hex')).toUpperCase();
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
