/**
 * Readiness check: the spool accepts a durable write (create, write, fsync,
 * unlink a probe file). A relay that cannot write its queue must not be
 * reported ready, because every 250 it gave would be a lie (non-negotiable 4).
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function spoolWritable(spoolDir: string): Promise<string | null> {
  const probe = join(spoolDir, `.health-${process.pid}`);
  try {
    const fh = await open(probe, 'w', 0o600);
    try {
      await fh.writeFile('ok\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(probe);
    return null;
  } catch (err) {
    return `spool ${spoolDir} is not writable: ${(err as Error).message}`;
  }
}
