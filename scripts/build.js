#!/usr/bin/env node
// `npm run build` (and npm's `prepare`, so `npm ci` and `npm pack` build):
// removes dist/ and compiles src/ with tsc (tsconfig.build.json). In an
// install without development dependencies (no typescript) it builds nothing
// and says so in one line; bin/dane-relay.js then names the missing dist/.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('dane-relay build: typescript is not installed (production install), dist/ left as it is\n');
  process.exit(0);
}
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
