/**
 * Queue ids: upper-case hex, time-ordered, unique enough to never collide in
 * one spool (milliseconds since the epoch + 24 random bits), e.g.
 * `19A3F2C5B1E7D04A21`. `isQueueId` is the only check the file layer needs
 * before using an id in a path (no `/`, no `..`).
 */
import { randomBytes } from 'node:crypto';

export function newQueueId(nowMs: number = Date.now()): string {
  return (nowMs.toString(16) + randomBytes(3).toString('hex')).toUpperCase();
}

export function isQueueId(value: string): boolean {
  return /^[0-9A-F]{6,40}$/.test(value);
}
