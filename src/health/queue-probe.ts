/**
 * Scrape-time queue figures for the metrics: messages waiting in the spool
 * (incoming, active, deferred, hold) and the age of the oldest one, taken
 * from its body file's mtime (the body is written once, at acceptance).
 * Reads directory listings only; never throws (an unreadable spool reads as
 * empty and the health check reports it).
 */
import { stat } from 'node:fs/promises';
import type { Spool } from '../queue/spool.ts';

const WAITING = ['incoming', 'active', 'deferred', 'hold'] as const;

export async function queueFigures(spool: Spool, now: number = Date.now()): Promise<{ messages: number; oldestAgeSeconds: number }> {
  const ids: string[] = [];
  for (const dir of WAITING) ids.push(...(await spool.list(dir).catch(() => [] as string[])));
  let oldest = now;
  for (const id of ids) {
    const st = await stat(spool.path('body', id)).catch(() => undefined);
    if (st && st.mtimeMs < oldest) oldest = st.mtimeMs;
  }
  return { messages: ids.length, oldestAgeSeconds: Math.max(0, (now - oldest) / 1000) };
}
