/**
 * docs/rules.md is the project's own rule document (C1…C33). This keeps it
 * honest: every rule names the modules that decide it and the tests that
 * prove it, each listed file really names the rule, and no source or test
 * file names a rule the document does not have. A rule may say
 * `proved by: — (not yet)` only while nothing in src/ decides it either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/rules.md'), 'utf8');

interface Rule { id: string; decided: string[]; proved: string[] }
const rules: Rule[] = [...doc.matchAll(/^- \*\*(C\d+)\*\* .*\n {2}- decided in: (.*)\n {2}- proved by: (.*)$/gm)].map((m) => ({
  id: m[1] ?? '',
  decided: [...(m[2] ?? '').matchAll(/`([^`]+)`/g)].map((x) => x[1] ?? ''),
  proved: [...(m[3] ?? '').matchAll(/`([^`]+)`/g)].map((x) => x[1] ?? ''),
}));

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    return statSync(join(ROOT, rel)).isDirectory() ? tsFiles(rel) : rel.endsWith('.ts') ? [rel] : [];
  });
}
const names = (file: string, id: string): boolean => new RegExp(`\\b${id}\\b`).test(readFileSync(join(ROOT, file), 'utf8'));

test('docs/rules.md lists C1…C33 in order, each with where it is decided and what proves it', () => {
  assert.deepEqual(rules.map((r) => r.id), Array.from({ length: 33 }, (_, i) => `C${i + 1}`));
});

test('every listed file exists and names its rule', () => {
  for (const r of rules) for (const f of [...r.decided, ...r.proved]) assert.ok(names(f, r.id), `${f} does not name ${r.id}`);
});

test('every rule that src/ decides is proved by a test, and every test naming a rule is listed', () => {
  const src = tsFiles('src');
  const tests = tsFiles('test').filter((f) => f !== 'test/architecture/rules-doc.test.ts');
  for (const r of rules) {
    const deciding = src.filter((f) => names(f, r.id));
    if (deciding.length > 0) assert.ok(r.proved.length > 0, `${r.id} is decided in ${deciding.join(', ')} but no test proves it`);
    assert.deepEqual(tests.filter((f) => names(f, r.id)), r.proved, `${r.id}: the tests naming it (update docs/rules.md)`);
    assert.deepEqual(deciding, r.decided, `${r.id}: the modules naming it (update docs/rules.md)`);
  }
});
