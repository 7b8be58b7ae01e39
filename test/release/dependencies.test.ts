/**
 * Runtime dependencies are exactly what src/ imports (issue 14): a package
 * imported by a file in src/ must be in `dependencies` (a production install,
 * `--omit=dev`, has nothing else), and every runtime dependency is used.
 * The TypeScript loader (tsx) is for development and tests only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Packages imported (statically, dynamically or for side effects) by src/ files the build ships (not src/lab/interop, test-only). */
function importedPackages(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files('src').filter((f) => !f.startsWith('src/lab/interop/'))) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
    for (const spec of specs) {
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
      if (!out.has(name)) out.set(name, file);
    }
  }
  return out;
}

test('every package src/ imports is a runtime dependency (works with npm install --omit=dev)', () => {
  const missing = [...importedPackages()].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (imported by ${file})`);
  assert.deepEqual(missing, []);
});

test('every runtime dependency is imported by src/ (reflect-metadata: required by @peculiar/x509, imported by src/lab/certs.ts)', () => {
  const used = importedPackages();
  assert.deepEqual(Object.keys(pkg.dependencies).filter((name) => !used.has(name)), []);
});

test('tsx and typescript are development dependencies only', () => {
  for (const dev of ['tsx', 'typescript']) {
    assert.ok(!(dev in pkg.dependencies), `${dev} in dependencies`);
    assert.ok(dev in pkg.devDependencies, `${dev} not in devDependencies`);
  }
});
