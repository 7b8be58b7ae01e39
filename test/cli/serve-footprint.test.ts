/**
 * What each thread of `serve` loads at start (test/fixtures/import-graph.ts:
 * static imports): with the delivery engine in its own thread (the default),
 * the listener's thread does not load the SMTP client, MTA-STS or TLSRPT,
 * and the delivery thread does not load the configuration schema (zod),
 * YAML, smtp-server or the metrics registry. Each module loaded twice costs
 * memory in both isolates: the README's peak RSS figure depends on this.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { staticImports } from '../fixtures/import-graph.ts';

const src = (p: string): string => fileURLToPath(new URL(`../../src/${p}`, import.meta.url));

test('serve: the listener thread does not load the delivery engine (create-deliverer is imported only without the thread)', () => {
  const graph = staticImports(src('cli/serve.ts'));
  assert.ok(graph.has(src('outbound/delivery-thread.ts')), 'the graph walk found the thread');
  const outbound = [...graph].filter((m) => m.includes('/src/outbound/') || m.includes('/src/sts/') || m.includes('/src/tlsrpt/'));
  assert.deepEqual(outbound, [src('outbound/delivery-thread.ts')]);
});

test('serve: the delivery thread loads neither the configuration schema nor the listener side', () => {
  const graph = staticImports(src('outbound/delivery-worker.ts'));
  assert.ok(graph.has('nodemailer'), 'the graph walk reached the SMTP client');
  for (const m of ['zod', 'yaml', 'smtp-server', 'prom-client', 'commander', src('config/schema.ts'), src('config/load.ts')]) {
    assert.ok(!graph.has(m), `the delivery thread loads ${m}`);
  }
});
