/**
 * The lab's scenario matrix: every case with the outcome RFC 7672 requires,
 * numbered in a stable order (`s01-ee-311`, …). The number is part of the
 * scenario's domain, so each case owns its own names in the one lab.
 *
 * Contract: names are unique; `findScenario` accepts the full name
 * (`s07-…`), the name without its number, or the number (`7`, `s07`).
 */
import type { Scenario } from './scenario-types.ts';
import { dnsScenarios } from './scenarios-dns.ts';
import { tlsaScenarios } from './scenarios-tlsa.ts';
import { transportScenarios } from './scenarios-transport.ts';
import { stsScenarios } from './scenarios-sts.ts';
import { requireTlsScenarios } from './scenarios-requiretls.ts';

function numbered(list: Scenario[]): Scenario[] {
  return list.map((s, i) => ({ ...s, name: `s${String(i + 1).padStart(2, '0')}-${s.name}` }));
}

/** The whole matrix (a fresh array each call). */
export function allScenarios(): Scenario[] {
  return numbered([...tlsaScenarios, ...transportScenarios, ...dnsScenarios, ...stsScenarios, ...requireTlsScenarios]);
}

/** The scenario named `key` (see the module contract), or undefined. */
export function findScenario(key: string, scenarios: Scenario[] = allScenarios()): Scenario | undefined {
  const k = key.trim().toLowerCase();
  const num = /^s?(\d+)$/.exec(k);
  if (num) return scenarios.find((s) => Number(s.name.slice(1, 3)) === Number(num[1]));
  return scenarios.find((s) => s.name === k || s.name.slice(4) === k);
}
