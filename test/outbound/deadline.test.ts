/**
 * deadline.ts: which limit each stage gets (table), and the StageClock
 * driven by nodemailer's transaction log, on mocked timers (no real time
 * passes: each case advances the clock and checks which stage expired).
 */
import { describe, test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { StageClock, commandStage, openBudget, sendBudget, stageBudget, transferBudget, type ClockStage, type StageBudgets } from '../../src/outbound/deadline.ts';

const B: StageBudgets = {
  connectMs: 30_000, heloMs: 300_000, starttlsMs: 250_000, mailMs: 301_000, rcptMs: 302_000, dataInitMs: 120_000,
  dataXferMs: 180_000, minDataRate: 500, dataDoneMs: 600_000, rsetMs: 20_000, quitMs: 299_000,
};

describe('stage budgets (Postfix smtp_*_timeout)', () => {
  const table: Array<[ClockStage, number]> = [
    ['connect', 30_000], ['greeting', 300_000], ['ehlo', 300_000], ['starttls', 250_000], ['tls-handshake', 250_000],
    ['mail', 301_000], ['rcpt', 302_000], ['data', 120_000], ['message', 180_000 + 2_000], ['reset', 20_000], ['quit', 299_000],
  ];
  for (const [stage, ms] of table) test(`${stage} gets ${ms} ms`, () => assert.equal(stageBudget(B, stage, 1000), ms));
  test('the body transfer limit grows with size at min_data_rate (10 MB at 500 B/s: 20,000 s more)', () => {
    assert.equal(transferBudget(B, 0), 180_000);
    assert.equal(transferBudget(B, 10_000_000), 180_000 + 20_000_000);
  });
  test('outer limits are the sums of their stages', () => {
    assert.equal(openBudget(B), 30_000 + 3 * 300_000 + 250_000);
    assert.equal(sendBudget(B, 1000, 3), 301_000 + 3 * 302_000 + 120_000 + 182_000 + 600_000);
  });
  const commands: Array<[string, ClockStage]> = [
    ['EHLO relay.test', 'ehlo'], ['HELO x', 'ehlo'], ['STARTTLS', 'starttls'], ['MAIL FROM:<a@b>', 'mail'],
    ['RCPT TO:<c@d>', 'rcpt'], ['DATA', 'data'], ['RSET', 'reset'], ['QUIT', 'quit'], ['NOOP', 'rcpt'],
  ];
  for (const [line, stage] of commands) test(`"${line}" opens stage ${stage}`, () => assert.equal(commandStage(line, 'rcpt'), stage));
});

describe('StageClock', () => {
  let expired: ClockStage[];
  let clock: StageClock;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    expired = [];
    clock = new StageClock(B, (s) => expired.push(s));
  });
  afterEach(() => { clock.stop(); mock.timers.reset(); });

  test('connect expires at connect_timeout', () => {
    clock.begin();
    mock.timers.tick(29_999);
    assert.deepEqual(expired, []);
    mock.timers.tick(1);
    assert.deepEqual(expired, ['connect']);
  });

  test('a greeting that never completes expires at helo_timeout, whatever arrives meanwhile', () => {
    clock.begin();
    clock.established();
    mock.timers.tick(299_999);
    assert.deepEqual(expired, []);
    mock.timers.tick(1);
    assert.deepEqual(expired, ['greeting']);
  });

  test('one STARTTLS limit covers the reply and the handshake; the upgrade stops it', () => {
    clock.begin();
    clock.established();
    clock.reply('220 hi');
    clock.command('STARTTLS');
    mock.timers.tick(200_000);
    clock.reply('220 go ahead');
    mock.timers.tick(49_999);
    assert.deepEqual(expired, []);
    mock.timers.tick(1);
    assert.deepEqual(expired, ['tls-handshake']);
  });

  test('pipelined commands: each reply is timed from when it became the oldest awaited one', () => {
    clock.begin();
    clock.established();
    clock.reply('220 hi');
    clock.operationDone();
    clock.transaction(1000, 1);
    clock.command('MAIL FROM:<a@b>');
    clock.command('RCPT TO:<c@d>');
    clock.command('DATA');
    mock.timers.tick(300_000);
    clock.reply('250 ok'); // MAIL, in time
    mock.timers.tick(302_000);
    assert.deepEqual(expired, ['rcpt']);
  });

  test('body: transfer limit after 354, then data_done for the final reply; idle after it', () => {
    clock.begin();
    clock.established();
    clock.reply('220 hi');
    clock.operationDone();
    clock.transaction(1000, 1);
    clock.command('MAIL FROM:<a@b>');
    clock.reply('250 ok');
    clock.command('RCPT TO:<c@d>');
    clock.reply('250 ok');
    clock.command('DATA');
    clock.reply('354 go');
    mock.timers.tick(181_999);
    clock.bodyWritten();
    mock.timers.tick(599_999);
    clock.reply('250 queued');
    clock.operationDone();
    mock.timers.tick(10_000_000);
    assert.deepEqual(expired, [], 'an idle session has no running limit');
  });

  test('a body that is not written within its transfer limit expires as message', () => {
    clock.begin();
    clock.established();
    clock.reply('220 hi');
    clock.transaction(1000, 1);
    clock.command('DATA');
    clock.reply('354 go');
    mock.timers.tick(182_000);
    assert.deepEqual(expired, ['message']);
  });

  test('the outer limit of an operation holds when no stage is being timed', () => {
    clock.begin();
    clock.established();
    clock.reply('220 hi');
    clock.resetting(); // RSET about to go out, but its command line is never seen
    mock.timers.tick(19_999);
    assert.deepEqual(expired, []);
    mock.timers.tick(1);
    assert.deepEqual(expired, ['reset']);
  });

  test('fires once, and not after stop()', () => {
    clock.begin();
    mock.timers.tick(30_000);
    mock.timers.tick(10_000_000);
    assert.deepEqual(expired, ['connect']);
    const other = new StageClock(B, (s) => expired.push(s));
    other.begin();
    other.stop();
    mock.timers.tick(10_000_000);
    assert.deepEqual(expired, ['connect']);
  });
});
