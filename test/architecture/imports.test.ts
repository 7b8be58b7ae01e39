/**
 * The architecture of DESIGN.md, checked: imports point inward.
 * - src/core is pure: it imports only other core files and node:crypto
 *   (no sockets, files, timers, no libraries).
 * - Nothing imports src/cli (entry points are leaves).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((m) => m[1] ?? '');
}

test('src/core imports only src/core and node:crypto (pure decision core)', () => {
  const offenders: string[] = [];
  for (const file of tsFiles('src/core')) {
    for (const spec of importsOf(file)) {
      if (spec === 'node:crypto') continue;
      const inCore = spec.startsWith('.') && relative('src/core', resolve(dirname(file), spec)).split('/')[0] !== '..';
      if (!inCore) offenders.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('nothing outside src/cli imports src/cli', () => {
  const offenders: string[] = [];
  for (const file of tsFiles('src')) {
    if (file.startsWith('src/cli/')) continue;
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.') && relative('src', resolve(dirname(file), spec)).startsWith('cli/')) offenders.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});
