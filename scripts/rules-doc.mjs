#!/usr/bin/env node
// Rewrites the `decided in:` and `proved by:` lists of docs/rules.md from the
// code: every src/ and test/ file that names the rule (C1…C33) as a word.
// Run after adding a test or a decision that cites a rule; the statements are
// edited by hand. test/architecture/rules-doc.test.ts fails when the lists
// are out of date.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walk = (dir) => readdirSync(join(root, dir)).flatMap((n) => {
  const rel = join(dir, n);
  return statSync(join(root, rel)).isDirectory() ? walk(rel) : rel.endsWith('.ts') ? [rel] : [];
});
const texts = new Map([...walk('src'), ...walk('test')].filter((f) => f !== 'test/architecture/rules-doc.test.ts').map((f) => [f, readFileSync(join(root, f), 'utf8')]));
const naming = (prefix, id) => [...texts].filter(([f, t]) => f.startsWith(prefix) && new RegExp(`\\b${id}\\b`).test(t)).map(([f]) => f).sort();
const list = (files) => (files.length ? files.map((f) => `\`${f}\``).join(', ') : '—');
const path = join(root, 'docs/rules.md');
const doc = readFileSync(path, 'utf8').replace(/^(- \*\*(C\d+)\*\* .*\n {2}- decided in: ).*\n( {2}- proved by: ).*$/gm, (_m, head, id, proved) => {
  const tests = naming('test/', id);
  return `${head}${list(naming('src/', id))}\n${proved}${tests.length ? list(tests) : '— (not yet)'}`;
});
writeFileSync(path, doc);
