/**
 * Renders lab results: a plain-text table `scenario | expected | observed |
 * result` for people, and a JSON document for machines. Pure.
 */
import type { ScenarioResult } from './judge.ts';

const COLUMNS = ['scenario', 'expected', 'observed', 'result'] as const;
const MAX_CELL = 70;

function clip(s: string): string {
  return s.length > MAX_CELL ? s.slice(0, MAX_CELL - 1) + '…' : s;
}

function row(r: ScenarioResult): string[] {
  return [`${r.name} (${r.rule})`, r.expected, r.observed, r.pass ? 'PASS' : 'FAIL'].map(clip);
}

export function summaryLine(results: ScenarioResult[]): string {
  const failed = results.filter((r) => !r.pass).length;
  return `${results.length - failed}/${results.length} scenarios passed${failed > 0 ? `, ${failed} failed` : ''}`;
}

/** The table, with the reasons of each failure listed under it, and a summary line. */
export function formatTable(results: ScenarioResult[]): string {
  const rows = results.map(row);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  const out = [line(COLUMNS), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)];
  const failures = results.filter((r) => !r.pass);
  if (failures.length > 0) {
    out.push('', 'Failures:');
    for (const f of failures) {
      out.push(`  ${f.name}: ${f.description}`);
      for (const p of f.problems) out.push(`    - ${p}`);
      if (f.observation.outcome?.detail) out.push(`    relay said: ${f.observation.outcome.detail}`);
    }
  }
  out.push('', summaryLine(results));
  return out.join('\n') + '\n';
}

export interface JsonReport {
  pass: boolean;
  total: number;
  failed: number;
  results: Array<Omit<ScenarioResult, 'observation'> & { observation: ScenarioResult['observation'] }>;
}

export function toJsonReport(results: ScenarioResult[]): JsonReport {
  const failed = results.filter((r) => !r.pass).length;
  return { pass: failed === 0, total: results.length, failed, results };
}
