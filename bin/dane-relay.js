#!/usr/bin/env node
// Entry point of the `dane-relay` command: runs the compiled JavaScript in
// dist/ (built by `npm run build`, which `npm ci` runs through `prepare`).
// No logic lives here.
//
// In a development checkout (src/ beside dist/, tsx installed) a dist/ that is
// missing or older than any file in src/ is not used: the sources run through
// tsx instead, so tests that spawn this file never exercise a stale build. A
// release install has no src/ and always runs dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { distIsStale } from './dist-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = join(root, 'dist', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

if (distIsStale(root)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('dane-relay: dist/ is missing or older than src/; run `npm run build`\n');
    process.exit(1);
  }
  register();
  await import(pathToFileURL(source).href);
} else if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  process.stderr.write('dane-relay: dist/ is missing; run `npm run build`\n');
  process.exit(1);
}
