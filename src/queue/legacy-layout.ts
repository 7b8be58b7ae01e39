/**
 * Converts a spool of the earlier two-file layout (JSON control file in a
 * queue directory, content in `body/ID`) to one queue file per message
 * (queue-file.ts), so mail queued by an older dane-relay is delivered, not
 * stranded, after an upgrade.
 *
 * Contract: runs from `Spool.recover()` with the lock held. Does nothing
 * when there is no `body/` directory. For each control file without a
 * trailer whose body exists, writes content + record into `tmp/`, fsyncs,
 * renames it over the control file, fsyncs the directory, then unlinks the
 * body; idempotent, so a crash midway is finished at the next start. A
 * control file that does not parse keeps its body (activation moves it to
 * `corrupt/`, as any damaged queue file; the body stays for the operator).
 * Bodies without a control file (orphans) are deleted, then `body/` when it
 * is empty. The old record's `size` is replaced by the body's length.
 */
import { readdir, readFile, rename, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { createQueueFile } from './queue-file-io.ts';
import { parseTrailer, TRAILER_MAX } from './queue-file.ts';
import { isQueueId } from './queue-id.ts';
import { parseRecord } from './record.ts';

/** True when `file` is (now) a queue file of the new layout. */
async function convert(file: string, bodyFile: string, id: string, tmp: string): Promise<boolean> {
  const control = await readFile(file);
  if (parseTrailer(control.subarray(Math.max(0, control.length - TRAILER_MAX)), control.length).kind === 'ok') return true;
  const parsed = parseRecord(control.toString('utf8'), id);
  const body = await readFile(bodyFile).catch(() => undefined);
  if (parsed.kind !== 'ok' || body === undefined) return false;
  const { mtime } = await stat(file);
  const out = await createQueueFile(tmp);
  try {
    await out.write(body);
    await out.finish({ ...parsed.record, size: body.length });
  } catch (err) {
    await out.discard();
    throw err;
  }
  await rename(tmp, file);
  // A deferred file's mtime is its next attempt time (spool.ts).
  await utimes(file, mtime, mtime);
  return true;
}

export async function migrateLegacyLayout(root: string, dirs: readonly string[], tmpPath: (id: string) => string, syncDir: (dir: string) => Promise<void>): Promise<void> {
  const bodyDir = join(root, 'body');
  const names = await readdir(bodyDir).catch(() => undefined);
  if (names === undefined) return;
  const bodies = new Set(names);
  const keep = new Set<string>();
  for (const dir of dirs) {
    let converted = false;
    for (const id of (await readdir(join(root, dir))).filter(isQueueId)) {
      if (!bodies.has(id)) continue;
      if (await convert(join(root, dir, id), join(bodyDir, id), id, tmpPath(id))) converted = true;
      else keep.add(id);
    }
    // The new files must be durable before the bodies they replace go.
    if (converted) await syncDir(join(root, dir));
  }
  for (const name of bodies) if (!keep.has(name)) await unlink(join(bodyDir, name)).catch(() => undefined);
  if (keep.size === 0) await rmdir(bodyDir).catch(() => undefined);
}
