/**
 * The shipped daily TLSRPT timer (RFC 8460 §4.1: one report per UTC day):
 * systemd-analyze accepts both units, the timer fires after 00:00 UTC with a
 * random delay and catches up missed runs, and the service runs
 * `tlsrpt send` (whose default day is the previous UTC day) as the relay's
 * user on the relay's spool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TIMER = 'systemd/dane-relay-tlsrpt.timer';
const SERVICE = 'systemd/dane-relay-tlsrpt.service';
const haveAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('tlsrpt timer: systemd-analyze verify reports nothing', { skip: !haveAnalyze && 'systemd-analyze not installed' }, () => {
  const r = spawnSync('systemd-analyze', ['verify', SERVICE, TIMER], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', `verify printed: ${r.stderr}`);
});

test('RFC 8460 §4.1: daily after 00:00 UTC, jittered, persistent; runs tlsrpt send as the relay user', () => {
  const timer = readFileSync(TIMER, 'utf8');
  assert.match(timer, /^OnCalendar=\*-\*-\* 00:\d\d:00 UTC$/m);
  assert.match(timer, /^RandomizedDelaySec=\S+$/m);
  assert.match(timer, /^Persistent=true$/m);
  const service = readFileSync(SERVICE, 'utf8');
  assert.match(service, /^ExecStart=\/usr\/bin\/node \/opt\/dane-relay\/bin\/dane-relay\.js tlsrpt send --config \/etc\/dane-relay\/dane-relay\.yaml$/m);
  assert.match(service, /^User=dane-relay$/m);
  assert.match(service, /^Type=oneshot$/m);
  assert.match(service, /^ReadWritePaths=\/var\/lib\/dane-relay$/m);
});
