import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedStsPolicy } from '../../src/core/sts-cache-rules.ts';
import { parseStsPolicy } from '../../src/core/sts-policy.ts';
import { StsCacheStore } from '../../src/sts/cache-store.ts';

const T0 = 1_700_000_000_000;
function entry(domain: string, expiresAt = T0 + 86_400_000): CachedStsPolicy {
  const r = parseStsPolicy('version: STSv1\nmode: enforce\nmx: *.example.net\nmax_age: 86400');
  assert.ok(r.kind === 'policy');
  return { domain, id: 'abc', policy: r.policy, fetchedAt: T0, expiresAt };
}

async function withSpool(fn: (spool: string) => Promise<void>): Promise<void> {
  const spool = await mkdtemp(join(tmpdir(), 'sts-cache-'));
  try { await fn(spool); } finally { await rm(spool, { recursive: true, force: true }); }
}

test('RFC 8461 §3.3: a cached policy survives a restart (persisted in the spool, re-validated on load)', () => withSpool(async (spool) => {
  const a = await StsCacheStore.open(spool, () => T0);
  await a.put(entry('example.com'));
  const b = await StsCacheStore.open(spool, () => T0);
  assert.deepEqual(b.get('example.com'), entry('example.com'));
  assert.deepEqual(b.warnings, []);
  assert.deepEqual((await readdir(join(spool, 'sts'))).sort(), ['policies.json'], 'no temp file left behind');
}));

test('expired entries are dropped on the next write', () => withSpool(async (spool) => {
  const s = await StsCacheStore.open(spool, () => T0);
  await s.put(entry('old.example', T0 - 1));
  await s.put(entry('new.example'));
  const again = await StsCacheStore.open(spool, () => T0);
  assert.equal(again.get('old.example'), null);
  assert.ok(again.get('new.example'));
}));

test('non-negotiable 7: a corrupt cache file is moved aside with a warning, not a crash', () => withSpool(async (spool) => {
  await mkdir(join(spool, 'sts'), { recursive: true });
  await writeFile(join(spool, 'sts', 'policies.json'), '{not json');
  const s = await StsCacheStore.open(spool, () => T0);
  assert.equal(s.all().length, 0);
  assert.match(s.warnings[0] ?? '', /unreadable .* moved to .*corrupt-1700000000000/);
  assert.equal(await readFile(join(spool, 'sts', `policies.json.corrupt-${T0}`), 'utf8'), '{not json');
}));

test('non-negotiable 7: an entry whose stored policy no longer parses is dropped with a warning; the others load', () => withSpool(async (spool) => {
  await mkdir(join(spool, 'sts'), { recursive: true });
  const good = { domain: 'good.example', id: 'a', fetchedAt: T0, expiresAt: T0 + 1000, policy: 'version: STSv1\nmode: testing\nmx: mx.good.example\nmax_age: 1' };
  const bad = { ...good, domain: 'bad.example', policy: 'mode: sometimes' };
  await writeFile(join(spool, 'sts', 'policies.json'), JSON.stringify([good, bad, 42]));
  const s = await StsCacheStore.open(spool, () => T0);
  assert.ok(s.get('good.example'));
  assert.equal(s.get('bad.example'), null);
  assert.equal(s.warnings.length, 2);
}));
