import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { delayDsnDue, originalRecipientOf, type DelayFacts, relayedDsnDue, returnedContent, wantsFailureDsn, type Notify } from '../../src/core/dsn-notify.ts';

describe('RFC 3461 §4.1: NOTIFY decides which DSNs a recipient gets', () => {
  const failure: Array<[Notify[] | undefined, boolean]> = [
    [undefined, true], [['NEVER'], false], [['FAILURE'], true], [['SUCCESS'], false], [['DELAY'], false], [['SUCCESS', 'FAILURE'], true], [['FAILURE', 'DELAY'], true],
  ];
  for (const [n, want] of failure) {
    test(`failure DSN for NOTIFY=${n?.join(',') ?? '(none)'}: ${want}`, () => assert.equal(wantsFailureDsn(n), want));
  }

  const relayed: Array<[Notify[] | undefined, boolean, boolean]> = [
    [['SUCCESS'], false, true], [['SUCCESS'], true, false], [['SUCCESS', 'FAILURE'], false, true],
    [undefined, false, false], [['FAILURE'], false, false], [['NEVER'], false, false],
  ];
  for (const [n, hopDsn, want] of relayed) {
    test(`RFC 3461 §5.2.2: relayed DSN for NOTIFY=${n?.join(',') ?? '(none)'}, next hop ${hopDsn ? 'offers' : 'lacks'} DSN: ${want}`, () => assert.equal(relayedDsnDue(n, hopDsn), want));
  }
});

describe('delay warnings (Postfix delay_warning_time, NOTIFY=DELAY)', () => {
  const base: DelayFacts = { notify: undefined, undelivered: true, warned: false, receivedAt: 0, now: 4 * 3600_000, delayWarningMs: 4 * 3600_000 };
  const cases: Array<[string, Partial<DelayFacts>, boolean]> = [
    ['due: no NOTIFY (Postfix default FAILURE,DELAY), waited the warning time', {}, true],
    ['off by default (0)', { delayWarningMs: 0 }, false],
    ['not yet', { now: 4 * 3600_000 - 1 }, false],
    ['NOTIFY=DELAY', { notify: ['DELAY'] }, true],
    ['NOTIFY=FAILURE only: no delay DSN', { notify: ['FAILURE'] }, false],
    ['NOTIFY=NEVER: none', { notify: ['NEVER'] }, false],
    ['already warned: once only', { warned: true }, false],
    ['delivered meanwhile', { undelivered: false }, false],
  ];
  for (const [name, over, want] of cases) test(name, () => assert.equal(delayDsnDue({ ...base, ...over }), want));
});

describe('RFC 3461 §4.3: RET decides what a DSN returns', () => {
  const cases: Array<[Parameters<typeof returnedContent>, 'full' | 'headers']> = [
    [['failed', 'FULL', 1000, 50_000], 'full'],
    [['failed', 'FULL', 50_001, 50_000], 'headers'],
    [['failed', 'HDRS', 1000, 50_000], 'headers'],
    [['failed', undefined, 1000, 50_000], 'headers'],
    [['delayed', 'FULL', 1000, 50_000], 'headers'],
    [['relayed', 'FULL', 1000, 50_000], 'headers'],
  ];
  for (const [args, want] of cases) test(`${args.join(' ')} → ${want}`, () => assert.equal(returnedContent(...args), want));
});

describe('RFC 3461 §4.2: the original recipient (ORCPT) passed on and reported', () => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ['bob@dst.test', 'rfc822;Bob@Dst.test', 'rfc822;Bob@Dst.test'],
    ['bob@dst.test', undefined, 'rfc822;bob@dst.test'],
    ['bøb@dst.test', undefined, undefined],
    ['bøb@dst.test', 'utf-8;b\\x{F8}b@dst.test', 'utf-8;b\\x{F8}b@dst.test'],
  ];
  for (const [addr, orcpt, want] of cases) test(`${addr} with ORCPT ${orcpt ?? '(none)'} → ${want ?? 'none'}`, () => assert.equal(originalRecipientOf(addr, orcpt), want));
});
