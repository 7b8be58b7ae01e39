/**
 * core/outcome: SMTP replies and transport failures → per-recipient outcomes
 * (RFC 5321 §4.2.1, RFC 3463; Postfix smtp_trouble.c wording).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyFailure, classifyNetworkFailure, classifyReply, dsnOfReply, noHostLeft, parseReply,
  type AttemptOutcome, type SmtpStage,
} from '../../src/core/outcome.ts';

const host = { name: 'mx.example.net', ip: '192.0.2.1', port: 25 };

describe('parseReply', () => {
  const cases: Array<[string, { code: number; enhanced: string | null; text: string } | null]> = [
    ['250 2.0.0 Ok: queued as ABC', { code: 250, enhanced: '2.0.0', text: '250 2.0.0 Ok: queued as ABC' }],
    ['550 5.1.1 <a@x>: Recipient address rejected', { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <a@x>: Recipient address rejected' }],
    ['450 Mailbox busy', { code: 450, enhanced: null, text: '450 Mailbox busy' }],
    ['451 5.7.1 class mismatch', { code: 451, enhanced: null, text: '451 5.7.1 class mismatch' }],
    ['550-5.7.1 first line\r\n550 5.7.1 second line', { code: 550, enhanced: '5.7.1', text: '550 5.7.1 first line second line' }],
    ['554', { code: 554, enhanced: null, text: '554' }],
    ['hello', null],
    ['', null],
  ];
  for (const [raw, want] of cases) {
    test(`parses ${JSON.stringify(raw)}`, () => assert.deepEqual(parseReply(raw), want));
  }
  test('DSN falls back to <class>.0.0', () => {
    assert.equal(dsnOfReply({ code: 452, enhanced: null, text: '452 x' }), '4.0.0');
    assert.equal(dsnOfReply({ code: 552, enhanced: '5.3.4', text: '552 5.3.4 x' }), '5.3.4');
  });
});

describe('classifyReply: table', () => {
  const rows: Array<{ stage: SmtpStage; raw: string; kind: AttemptOutcome['kind']; dsn: string; diag?: RegExp }> = [
    { stage: 'message', raw: '250 2.0.0 Ok', kind: 'sent', dsn: '2.0.0' },
    { stage: 'message', raw: '250 Ok', kind: 'sent', dsn: '2.0.0' },
    { stage: 'rcpt', raw: '550 5.1.1 No such user', kind: 'bounced', dsn: '5.1.1',
      diag: /^host mx\.example\.net\[192\.0\.2\.1\] said: 550 5\.1\.1 No such user \(in reply to RCPT TO command\)$/ },
    { stage: 'rcpt', raw: '450 4.2.0 Greylisted', kind: 'deferred', dsn: '4.2.0', diag: /in reply to RCPT TO command/ },
    { stage: 'rcpt', raw: '452 Too many recipients', kind: 'deferred', dsn: '4.0.0' },
    { stage: 'mail', raw: '553 5.7.1 Sender rejected', kind: 'bounced', dsn: '5.7.1', diag: /in reply to MAIL FROM command/ },
    { stage: 'mail', raw: '451 4.3.0 Try later', kind: 'deferred', dsn: '4.3.0' },
    { stage: 'data', raw: '554 5.5.1 No valid recipients', kind: 'bounced', dsn: '5.5.1', diag: /in reply to DATA command/ },
    { stage: 'message', raw: '552 5.3.4 Too big', kind: 'bounced', dsn: '5.3.4', diag: /in reply to end of DATA command/ },
    { stage: 'message', raw: '451 4.3.0 Queue full', kind: 'deferred', dsn: '4.3.0' },
    { stage: 'greeting', raw: '421 4.3.2 Service not available', kind: 'next-host', dsn: '4.3.2', diag: /refused to talk to me: 421/ },
    { stage: 'greeting', raw: '554 5.7.1 Go away', kind: 'next-host', dsn: '4.7.1', diag: /refused to talk to me: 554/ },
    { stage: 'ehlo', raw: '421 Closing', kind: 'next-host', dsn: '4.0.0', diag: /in reply to EHLO command/ },
    { stage: 'starttls', raw: '454 4.7.0 TLS not available', kind: 'next-host', dsn: '4.7.0' },
  ];
  for (const r of rows) {
    test(`${r.stage} ${r.raw} → ${r.kind} ${r.dsn}`, () => {
      const reply = parseReply(r.raw);
      assert.ok(reply);
      const out = classifyReply(host, r.stage, reply);
      assert.equal(out.kind, r.kind);
      assert.equal(out.dsn, r.dsn);
      if (out.kind !== 'sent') {
        assert.equal(out.remoteReply, reply.text, 'the remote reply is kept for DSNs');
        assert.equal(out.cause, reply.code >= 500 ? 'remote_reject' : 'remote_tempfail', 'the cause: what the server said');
        if (r.diag) assert.match(out.diagnostic, r.diag);
      }
    });
  }
});

describe('transport failures try the next host', () => {
  const rows: Array<{ stage: SmtpStage; cause: 'timeout' | 'refused' | 'closed' | 'error'; detail: string; dsn: string; diag: string }> = [
    { stage: 'connect', cause: 'refused', detail: 'Connection refused', dsn: '4.4.1', diag: 'connect to mx.example.net[192.0.2.1]:25: Connection refused' },
    { stage: 'connect', cause: 'timeout', detail: 'x', dsn: '4.4.1', diag: 'connect to mx.example.net[192.0.2.1]:25: Connection timed out' },
    { stage: 'greeting', cause: 'closed', detail: 'x', dsn: '4.4.2', diag: 'lost connection with mx.example.net[192.0.2.1] while receiving the initial server greeting' },
    { stage: 'message', cause: 'closed', detail: 'x', dsn: '4.4.2', diag: 'lost connection with mx.example.net[192.0.2.1] while sending message body' },
    { stage: 'rcpt', cause: 'timeout', detail: 'x', dsn: '4.4.2', diag: 'conversation with mx.example.net[192.0.2.1] timed out while sending RCPT TO' },
  ];
  for (const r of rows) {
    test(`${r.stage}/${r.cause} → next-host ${r.dsn}`, () => {
      const out = classifyNetworkFailure(host, r.stage, r.cause, r.detail);
      assert.deepEqual(out, { kind: 'next-host', dsn: r.dsn, diagnostic: r.diag, cause: 'connection_failure' });
      assert.deepEqual(classifyFailure(host, { kind: 'network', stage: r.stage, cause: r.cause, detail: r.detail }), out);
    });
  }
});

describe('noHostLeft', () => {
  test('the last next-host reason becomes a deferral with a 4.x.x code', () => {
    const out = noHostLeft({ kind: 'next-host', dsn: '4.7.5', diagnostic: 'Server certificate not verified', cause: 'tlsa_mismatch' }, { dsn: '4.4.1', diagnostic: 'x', cause: 'other' });
    assert.deepEqual(out, { kind: 'deferred', dsn: '4.7.5', diagnostic: 'Server certificate not verified', cause: 'tlsa_mismatch' }, 'the cause travels with the reason');
  });
  test('nothing tried → the fallback deferral', () => {
    assert.deepEqual(noHostLeft(null, { dsn: '4.4.3', diagnostic: 'no host', cause: 'dns_failure' }), { kind: 'deferred', dsn: '4.4.3', diagnostic: 'no host', cause: 'dns_failure' });
  });
  test('a 5xx greeting never bounces (Postfix smtp_skip_5xx_greeting)', () => {
    const reply = parseReply('554 5.7.1 no');
    assert.ok(reply);
    const out = noHostLeft(classifyReply(host, 'greeting', reply), { dsn: '4.4.1', diagnostic: 'x', cause: 'other' });
    assert.equal(out.kind, 'deferred');
    assert.equal(out.dsn, '4.7.1');
  });
});
