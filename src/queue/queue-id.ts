/**
 * Queue ids, as Postfix's long queue ids: the acceptance time and the inode
 * number of the message's queue file, in upper-case hex, e.g.
 * `19A3F2C5B1E00004A21` — 11 digits of milliseconds since the epoch (fixed
 * width from 2004 to 2527; `queueIdTime` reads it back), then the inode
 * (at least 6 digits). Unique by construction: no two files that exist at
 * once on one filesystem share an inode, and the spool has the file (in
 * `tmp/`, renamed into the queue, so the inode stays) before it names
 * the message. A clock that steps back cannot make a live message's id
 * twice, so a new message is never renamed over another. A spare file
 * (spare-files.ts) names its next message by the same inode and a later
 * time; one that would give back the id it had is not used.
 * `isQueueId` is the only check the file layer needs before using an id in
 * a path (no `/`, no `..`).
 */

const TIME_DIGITS = 11;

export function newQueueId(nowMs: number, inode: number | bigint): string {
  return (Math.max(0, Math.floor(nowMs)).toString(16).padStart(TIME_DIGITS, '0') + inode.toString(16).padStart(6, '0')).toUpperCase();
}

export function isQueueId(value: string): boolean {
  return /^[0-9A-F]{6,40}$/.test(value);
}

/** The acceptance time (ms) in an id made by `newQueueId`; undefined for any other id. */
export function queueIdTime(id: string): number | undefined {
  if (!isQueueId(id) || id.length < TIME_DIGITS + 6) return undefined;
  return parseInt(id.slice(0, TIME_DIGITS), 16);
}
