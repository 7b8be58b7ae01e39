/**
 * The configuration reference cannot drift from the schema: the example file
 * lists every key of the schema and parses to the defaults, and every YAML
 * example in the README is a valid configuration whose policy table parses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { defaultConfig, parseConfig } from '../../src/config/load.ts';
import { buildPolicyTable } from '../../src/config/tls-policy-map.ts';
import { buildTransportTable } from '../../src/config/transport-map.ts';

/** Leaf key paths of a config object; maps meant to be open (policy, transport) count as leaves. */
function leafKeys(o: Record<string, unknown>, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const path = [...prefix, k];
    const open = k === 'policy' || k === 'transport';
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !open) out.push(...leafKeys(v as Record<string, unknown>, path));
    else out.push(path.join('.'));
  }
  return out;
}

test('config/dane-relay.example.yaml documents exactly the schema keys and parses to the defaults', () => {
  const text = readFileSync('config/dane-relay.example.yaml', 'utf8');
  const example = parseYaml(text) as Record<string, unknown>;
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  const schemaKeys = leafKeys(defaults).sort();
  // myhostname defaults to the machine's name, so the example shows it commented out.
  assert.match(text, /^# myhostname: /m);
  assert.deepEqual(leafKeys(example).sort(), schemaKeys.filter((k) => k !== 'myhostname'));
  assert.deepEqual(parseConfig(example), defaults);
});

test('every YAML example in the README is a valid configuration', () => {
  const readme = readFileSync('README.md', 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  assert.ok(blocks.length >= 1, 'README has no yaml example');
  for (const block of blocks) {
    const config = parseConfig(parseYaml(block));
    buildPolicyTable({ ...config.tls.policy });
    buildTransportTable({ ...config.delivery.transport });
  }
});
