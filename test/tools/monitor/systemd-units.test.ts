/**
 * The shipped monitor units (systemd/dane-relay-monitor.service + .timer)
 * pass `systemd-analyze verify`, the service is as little exposed as the
 * relay's, and its ExecStart names only options `dane-relay monitor` has.
 * The systemd-analyze tests skip (and say so) where it is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerMonitor } from '../../../src/cli/monitor.ts';

const SERVICE = 'systemd/dane-relay-monitor.service';
const TIMER = 'systemd/dane-relay-monitor.timer';
const haveAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('monitor units: systemd-analyze verify reports nothing', { skip: !haveAnalyze && 'systemd-analyze not installed' }, () => {
  const r = spawnSync('systemd-analyze', ['verify', SERVICE, TIMER], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', `verify printed: ${r.stderr}`);
});

test('monitor service: exposure score at most 2.0', { skip: !haveAnalyze && 'systemd-analyze not installed' }, () => {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', SERVICE], { encoding: 'utf8' });
  const m = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout + r.stderr);
  assert.ok(m, r.stdout + r.stderr);
  assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
});

test('monitor service: oneshot, exit 1 (a finding) is not a unit failure, ExecStart options exist; timer is persistent', () => {
  const unit = readFileSync(SERVICE, 'utf8');
  assert.match(unit, /^Type=oneshot$/m);
  assert.match(unit, /^SuccessExitStatus=1$/m);
  const exec = /^ExecStart=(.*(?:\\\n.*)*)$/m.exec(unit)?.[1]?.replace(/\\\n\s*/g, ' ') ?? '';
  const options = [...exec.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]);
  const cmd = registerMonitor(new Command('dane-relay'));
  const known = new Set(cmd.options.map((o) => o.long));
  assert.deepEqual(options.filter((o) => !known.has(o)), []);
  assert.match(readFileSync(TIMER, 'utf8'), /^Persistent=true$/m);
});
