import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TlsrptAttempt } from '../../src/tlsrpt/result-types.ts';
import { TlsrptStore, utcDay } from '../../src/tlsrpt/store.ts';

const DAY1 = Date.parse('2026-11-30T23:59:59Z');
const DAY2 = Date.parse('2026-12-01T00:00:01Z');
function attempt(at: number, domain = 'example.com'): TlsrptAttempt {
  return { at, policyDomain: domain, policyType: 'tlsa', policyStrings: ['3 1 1 ab'], mxHost: ['mx.example.com'], receivingMxHostname: 'mx.example.com', result: { kind: 'success' } };
}
async function withSpool(fn: (spool: string) => Promise<void>): Promise<void> {
  const spool = await mkdtemp(join(tmpdir(), 'tlsrpt-store-'));
  try { await fn(spool); } finally { await rm(spool, { recursive: true, force: true }); }
}

test('RFC 8460 §4: attempts go to one append-only file per UTC day and read back after a restart', () => withSpool(async (spool) => {
  const s = await TlsrptStore.open(spool);
  await s.record(attempt(DAY1));
  await s.record(attempt(DAY2, 'other.example'));
  await s.record(attempt(DAY2));
  await s.close();
  const again = await TlsrptStore.open(spool);
  assert.deepEqual(await again.days(), ['2026-11-30', '2026-12-01']);
  assert.deepEqual((await again.read('2026-11-30')).attempts, [attempt(DAY1)]);
  assert.deepEqual((await again.read('2026-12-01')).attempts, [attempt(DAY2, 'other.example'), attempt(DAY2)]);
  assert.equal(utcDay(DAY1), '2026-11-30');
}));

test('a record is readable as soon as record() resolved (no close needed: survives kill -9)', () => withSpool(async (spool) => {
  const s = await TlsrptStore.open(spool);
  await s.record(attempt(DAY1));
  const reader = await TlsrptStore.open(spool);
  assert.equal((await reader.read('2026-11-30')).attempts.length, 1);
  await s.close();
}));

test('non-negotiable 7: a torn or foreign line is skipped with a warning, the rest is kept', () => withSpool(async (spool) => {
  const s = await TlsrptStore.open(spool);
  await s.record(attempt(DAY1));
  await s.close();
  await appendFile(join(spool, 'tlsrpt', '2026-11-30.jsonl'), '{"at":1,"policyDom\n{"hello":"world"}\n');
  const s2 = await TlsrptStore.open(spool);
  await s2.record(attempt(DAY1 - 1000));
  await s2.close();
  const r = await s2.read('2026-11-30');
  assert.equal(r.attempts.length, 2);
  assert.equal(r.warnings.length, 2);
}));

test('concurrent records are all kept, one per line', () => withSpool(async (spool) => {
  const s = await TlsrptStore.open(spool);
  await Promise.all(Array.from({ length: 50 }, (_, i) => s.record(attempt(DAY1 - i))));
  await s.close();
  const r = await s.read('2026-11-30');
  assert.equal(r.attempts.length, 50);
  assert.deepEqual(r.warnings, []);
}));

test('a day with no file reads as empty', () => withSpool(async (spool) => {
  const s = await TlsrptStore.open(spool);
  assert.deepEqual(await s.read('2020-01-01'), { attempts: [], warnings: [] });
}));
