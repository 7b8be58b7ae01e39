// Whether a development checkout's dist/ can be run: shared by bin/dane-relay.js
// (which falls back to the sources through tsx when it cannot) and the
// benchmark (which refuses to measure anything but the compiled release).
// A release install has no src/: its dist/ is always the one to run.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** True when `root/src` exists and `root/dist/cli/main.js` is missing or older than any .ts file under it. */
export function distIsStale(root) {
  const source = join(root, 'src', 'cli', 'main.ts');
  const compiled = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(source)) return false;
  if (!existsSync(compiled)) return true;
  let newest = 0;
  for (const name of readdirSync(join(root, 'src'), { recursive: true })) {
    if (String(name).endsWith('.ts')) newest = Math.max(newest, statSync(join(root, 'src', String(name))).mtimeMs);
  }
  return newest > statSync(compiled).mtimeMs;
}
