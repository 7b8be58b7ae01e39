/**
 * Durable whole-file replacement: write `path.tmp`, fsync it, rename over
 * `path`, fsync the directory — so after a crash (kill -9, power loss) the
 * file is either the old or the new content, never a mix (DESIGN.md
 * "fsync the file and the directory").
 *
 * Failure modes: any I/O error rejects; the old file is then untouched.
 */
import { open, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
