/**
 * Scrape-time queue figures for the metrics: messages waiting in the spool
 * (incoming, active, deferred, hold) and the age of the oldest one, taken
 * from the acceptance time in its queue id (queue-id.ts).
 * Reads directory listings only; never throws (an unreadable spool reads as
 * empty and the health check reports it).
 */
import { queueIdTime } from '../queue/queue-id.ts';
import type { Spool } from '../queue/spool.ts';

const WAITING = ['incoming', 'active', 'deferred', 'hold'] as const;

export async function queueFigures(spool: Spool, now: number = Date.now()): Promise<{ messages: number; oldestAgeSeconds: number }> {
  const ids: string[] = [];
  for (const dir of WAITING) ids.push(...(await spool.list(dir).catch(() => [] as string[])));
  let oldest = now;
  for (const id of ids) oldest = Math.min(oldest, queueIdTime(id) ?? now);
  return { messages: ids.length, oldestAgeSeconds: Math.max(0, (now - oldest) / 1000) };
}
