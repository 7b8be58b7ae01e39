/** The fuzz runner: surfaces are found by file name (test/fuzz/*-surface.ts); the table sums the tallies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { discoverSurfaces, formatTable } from './run.ts';

test('every test/fuzz/*-surface.ts present is discovered and exports a runnable surface', async () => {
  const files = readdirSync('test/fuzz').filter((f) => f.endsWith('-surface.ts'));
  const surfaces = await discoverSurfaces();
  assert.equal(surfaces.length, files.length);
  assert.ok(surfaces.some((s) => s.name === 'inbound'));
  for (const s of surfaces) assert.ok(files.includes(`${s.name}-surface.ts`), `${s.name} comes from ${s.name}-surface.ts`);
});

test('the table has one row per surface and a total of every column', () => {
  const row = (surface: string, n: number) => ({ surface, inputs: n, crashes: 1, hangs: 2, wrongDeliveries: 3, lost: 4, failures: [] });
  const lines = formatTable([row('inbound', 10), row('resolver', 5)]).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0] ?? '', /^surface\s+inputs\s+crashes\s+hangs\s+wrong deliveries\s+lost$/);
  assert.deepEqual((lines[3] ?? '').split(/\s+/), ['total', '15', '2', '4', '6', '8']);
});
