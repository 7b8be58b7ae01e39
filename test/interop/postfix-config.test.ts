/**
 * The private Postfix instance's configuration (src/lab/interop/postfix.ts),
 * checked without running Postfix: the derived master.cf keeps the system's
 * services, unchroots them, moves `smtp inet` to the lab port and drops
 * Debian's pipe services (with their continuation lines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transformMasterCf } from '../../src/lab/interop/postfix.ts';

const SAMPLE = [
  '# comment stays',
  'smtp      inet  n       -       y       -       -       smtpd',
  '#submission inet n       -       y       -       -       smtpd',
  'pickup    unix  n       -       y       60      1       pickup',
  'relay     unix  -       -       y       -       -       smtp',
  '        -o syslog_name=postfix/$service_name',
  'maildrop  unix  -       n       n       -       -       pipe',
  '  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}',
  'postlog   unix-dgram n  -       n       -       1       postlogd',
  '',
].join('\n');

const lines = transformMasterCf(SAMPLE, 10025).split('\n');

const cases: Array<[string, (l: string[]) => void]> = [
  ['smtp inet moves to the lab port, unchrooted', (l) => assert.ok(l.includes('10025 inet n - n - - smtpd'))],
  ['every service is unchrooted', (l) => assert.ok(l.filter((x) => /^\w/.test(x)).every((x) => x.split(' ')[4] === 'n'))],
  ['smtp unix client and its -o line are kept', (l) => {
    const i = l.indexOf('relay unix - - n - - smtp');
    assert.ok(i >= 0);
    assert.match(l[i + 1] ?? '', /-o syslog_name/);
  }],
  ['pipe services with foreign users are dropped with their arguments', (l) => assert.ok(!l.some((x) => /maildrop|vmail/.test(x)))],
  ['comments, commented services and postlog survive', (l) => {
    assert.ok(l.includes('# comment stays'));
    assert.ok(l.some((x) => x.startsWith('#submission')));
    assert.ok(l.includes('postlog unix-dgram n - n - 1 postlogd'));
  }],
];

for (const [name, check] of cases) test(`postfix lab master.cf: ${name}`, () => check(lines));
