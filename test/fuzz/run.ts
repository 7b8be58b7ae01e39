/**
 * The fuzz runner (issue 19):
 *
 *   npm run fuzz -- [--iterations N] [--seed S] [--surface NAME]...
 *   npm run fuzz -- --storm [--messages 1000] [--kills 20] [--seed S]
 *
 * Imports every test/fuzz/*-surface.ts present (discovered by file name, so
 * the resolver and mx surfaces join when their files land), runs the chosen
 * ones (all by default) one after the other, EACH WITH N ITERATIONS (N is per
 * surface, not split), and prints one row per surface and a total: inputs
 * tried, crashes, hangs, wrong deliveries, lost messages. `--seed` makes a
 * run replayable (default: derived from the clock, and printed). `--storm`
 * runs the kill -9 storm instead (test/fixtures/kill-storm.ts). Exit status
 * 1 on any finding, 2 on bad arguments.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runKillStorm } from '../fixtures/kill-storm.ts';
import type { FuzzSurface, FuzzTally } from './surface.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const log = (line: string): void => void process.stderr.write(`${line}\n`);

export async function discoverSurfaces(): Promise<FuzzSurface[]> {
  const files = (await readdir(HERE)).filter((f) => f.endsWith('-surface.ts')).sort();
  const surfaces: FuzzSurface[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(HERE, f)).href)) as { surface?: FuzzSurface };
    if (mod.surface && typeof mod.surface.run === 'function') surfaces.push(mod.surface);
    else log(`fuzz: ${f} exports no \`surface\`; skipped`);
  }
  return surfaces;
}

export function formatTable(tallies: FuzzTally[]): string {
  const total: FuzzTally = { surface: 'total', inputs: 0, crashes: 0, hangs: 0, wrongDeliveries: 0, lost: 0, failures: [] };
  for (const t of tallies) for (const k of ['inputs', 'crashes', 'hangs', 'wrongDeliveries', 'lost'] as const) total[k] += t[k];
  const head = ['surface', 'inputs', 'crashes', 'hangs', 'wrong deliveries', 'lost'];
  const rows = [...tallies, total].map((t) => [t.surface, t.inputs, t.crashes, t.hangs, t.wrongDeliveries, t.lost].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

const findings = (t: FuzzTally): number => t.crashes + t.hangs + t.wrongDeliveries + t.lost;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '200' },
      seed: { type: 'string' },
      surface: { type: 'string', multiple: true },
      storm: { type: 'boolean', default: false },
      messages: { type: 'string', default: '1000' },
      kills: { type: 'string', default: '20' },
    },
  });
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2_147_483_647;
  const iterations = Number(values.iterations);
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(iterations) || iterations < 1) {
    log('usage: npm run fuzz -- [--iterations N] [--seed S] [--surface NAME]... | --storm [--messages N] [--kills K] [--seed S]');
    return 2;
  }
  if (values.storm) {
    const r = await runKillStorm({ messages: Number(values.messages), kills: Number(values.kills), seed, log });
    console.log(`kill -9 storm, seed ${seed}: ${r.messages} messages, ${r.acked} acknowledged, ${r.killsDone} kills (${r.killsAfterSending} after the last message was sent), ${r.delivered} delivered, ${r.duplicates} delivered twice, ${r.lost.length} lost${r.incomplete ? ` (${r.incomplete})` : ''}`);
    return r.lost.length > 0 || r.incomplete ? 1 : 0;
  }
  const all = await discoverSurfaces();
  const wanted = values.surface ?? all.map((s) => s.name);
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length > 0) {
    log(`fuzz: no surface named ${unknown.join(', ')} (present: ${all.map((s) => s.name).join(', ')})`);
    return 2;
  }
  log(`fuzz: seed ${seed}, ${iterations} iterations per surface, surfaces: ${wanted.join(', ')}`);
  const tallies: FuzzTally[] = [];
  for (const s of all.filter((x) => wanted.includes(x.name))) {
    const started = Date.now();
    const t = await s.run({ iterations, seed, log });
    log(`fuzz: ${s.name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    tallies.push(t);
  }
  console.log(`seed ${seed}, ${iterations} iterations per surface`);
  console.log(formatTable(tallies));
  for (const t of tallies) for (const f of t.failures) console.log(`${t.surface}: ${f}`);
  return tallies.some((t) => findings(t) > 0) ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
