/**
 * core/dnssec-guard: one decision for `serve` and `check` when the DNSSEC
 * self-check fails (RFC 7672 §2.1.3, C6).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dnssecGuard, type DnssecGuardDecision } from '../../src/core/dnssec-guard.ts';

const FAILED = { ok: false as const, reason: 'DNSSEC probe . NS: answer not validated' };

describe('dnssec guard: table', () => {
  const rows: Array<{ name: string; ok: boolean; daneRequired: boolean; onFailure: 'refuse' | 'warn'; want: DnssecGuardDecision['kind'] }> = [
    { name: 'C6: validated probe proceeds (DANE required, refuse)', ok: true, daneRequired: true, onFailure: 'refuse', want: 'proceed' },
    { name: 'C6: validated probe proceeds (no DANE, warn)', ok: true, daneRequired: false, onFailure: 'warn', want: 'proceed' },
    { name: 'C6/C1: failed probe, DANE required, on_failure refuse: refuse', ok: false, daneRequired: true, onFailure: 'refuse', want: 'refuse' },
    { name: 'C6: failed probe, DANE required, on_failure warn: warn', ok: false, daneRequired: true, onFailure: 'warn', want: 'warn' },
    { name: 'C6: failed probe, no DANE in force, on_failure refuse: warn (nothing depends on validation)', ok: false, daneRequired: false, onFailure: 'refuse', want: 'warn' },
    { name: 'C6: failed probe, no DANE, on_failure warn: warn', ok: false, daneRequired: false, onFailure: 'warn', want: 'warn' },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const d = dnssecGuard(r.ok ? { ok: true } : FAILED, { daneRequired: r.daneRequired, onFailure: r.onFailure });
      assert.equal(d.kind, r.want);
      if (d.kind !== 'proceed') assert.equal(d.reason, FAILED.reason, 'the probe reason is carried to the operator');
    });
  }
});
