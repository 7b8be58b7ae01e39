/**
 * DSN composition (RFC 3464, RFC 6522) read back with a real MIME parser
 * (mailparser): the fields Postfix writes, for failed, delayed and relayed
 * DSNs, with ENVID, ORCPT and RET.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { composeDsn } from '../../src/queue/dsn.ts';
import { newRecord, type RecipientState } from '../../src/queue/record.ts';
import { parseDsn } from './dsn-fixtures.ts';

const ORIGINAL = Buffer.from('From: alice@src.test\r\nTo: bob@dst.test\r\nSubject: original\r\nMessage-ID: <m1@src.test>\r\n\r\nthe secret body\r\n');
const RECORD = { ...newRecord({ id: 'ABCDEF012345', sender: 'alice@src.test', recipients: [{ address: 'bob@dst.test', notify: ['FAILURE'], orcpt: 'rfc822;Bob@Dst.test' }], receivedAt: Date.UTC(2026, 10, 3, 10), size: ORIGINAL.length, smtputf8: false, eightBit: false, envid: 'QQ314159', ret: 'FULL' }) };
const BOUNCED: RecipientState = {
  address: 'bob@dst.test', status: 'bounced', attempts: 1, dsn: '5.1.1', orcpt: 'rfc822;Bob@Dst.test',
  diagnostic: 'host mx.dst.test[192.0.2.1] said: 550 5.1.1 No such user (in reply to RCPT TO command)',
  relay: 'mx.dst.test[192.0.2.1]:25', remoteReply: '550 5.1.1 No such user', lastAttemptAt: Date.UTC(2026, 10, 3, 10, 5),
};
const HEADERS = 'From: alice@src.test\r\nTo: bob@dst.test\r\nSubject: original\r\nMessage-ID: <m1@src.test>';

describe('RFC 3464 DSN composition, parsed with mailparser', () => {
  test('RFC 3464 §2.2, §2.3 + RFC 3461 §4.3: a failed DSN with ENVID, ORCPT and RET=FULL returns the whole message as message/rfc822', async () => {
    const raw = await composeDsn({ kind: 'failed', record: RECORD, recipients: [BOUNCED], originalHeaders: HEADERS, originalMessage: ORIGINAL, reportingMta: 'relay.test', now: Date.UTC(2026, 10, 3, 11) });
    const d = await parseDsn(raw);
    assert.equal(d.contentType, 'multipart/report');
    assert.equal(d.reportType, 'delivery-status');
    assert.deepEqual(d.parts, ['text/plain', 'message/delivery-status', 'message/rfc822']);
    assert.equal(d.mail.subject, 'Undelivered Mail Returned to Sender');
    assert.equal(d.mail.from?.text, 'MAILER-DAEMON@relay.test');
    assert.equal(d.perMessage['Reporting-MTA'], 'dns; relay.test');
    assert.equal(d.perMessage['Original-Envelope-Id'], 'QQ314159');
    assert.equal(d.perMessage['X-Dane-Relay-Sender'], 'rfc822; alice@src.test');
    assert.match(d.perMessage['Arrival-Date'] ?? '', /3 Nov 2026 10:00:00 \+0000/);
    assert.deepEqual(d.perRecipient, [{
      'Final-Recipient': 'rfc822; bob@dst.test', 'Original-Recipient': 'rfc822;Bob@Dst.test', Action: 'failed', Status: '5.1.1',
      'Remote-MTA': 'dns; mx.dst.test', 'Diagnostic-Code': 'smtp; 550 5.1.1 No such user', 'Last-Attempt-Date': 'Tue, 03 Nov 2026 10:05:00 +0000',
    }]);
    const returned = await simpleParser(d.returned);
    assert.equal(returned.subject, 'original');
    assert.match(returned.text ?? '', /the secret body/);
  });

  test('RFC 3461 §4.3: without the whole message (RET=HDRS or too large) only text/rfc822-headers, never the body', async () => {
    const raw = await composeDsn({ kind: 'failed', record: { ...RECORD, ret: 'HDRS' }, recipients: [BOUNCED], originalHeaders: HEADERS, reportingMta: 'relay.test', now: Date.now() });
    const d = await parseDsn(raw);
    assert.deepEqual(d.parts, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    assert.match(d.returned, /^From: alice@src\.test\r\n/);
    assert.doesNotMatch(raw.toString(), /secret body/);
  });

  test('RFC 3464 §2.3.3: a delayed DSN says Action: delayed, Status 4.x.y and Will-Retry-Until', async () => {
    const deferred: RecipientState = { ...BOUNCED, status: 'deferred', dsn: '4.4.1', remoteReply: undefined, diagnostic: 'connect to mx.dst.test[192.0.2.1]:25: Connection refused' };
    delete deferred.remoteReply;
    const raw = await composeDsn({ kind: 'delayed', record: RECORD, recipients: [deferred], originalHeaders: HEADERS, reportingMta: 'relay.test', now: Date.now(), retryUntil: Date.UTC(2026, 10, 8, 10) });
    const d = await parseDsn(raw);
    assert.equal(d.mail.subject, 'Delayed Mail (still being retried)');
    assert.equal(d.perRecipient[0]?.Action, 'delayed');
    assert.equal(d.perRecipient[0]?.Status, '4.4.1');
    assert.equal(d.perRecipient[0]?.['Diagnostic-Code'], 'x-dane-relay; connect to mx.dst.test[192.0.2.1]:25: Connection refused');
    assert.equal(d.perRecipient[0]?.['Will-Retry-Until'], 'Sun, 08 Nov 2026 10:00:00 +0000');
    assert.equal(d.parts[2], 'text/rfc822-headers', 'RET=FULL concerns failed DSNs only');
  });

  test('RFC 3461 §5.2.2: a relayed DSN says Action: relayed, Status 2.0.0, the next hop as Remote-MTA', async () => {
    const sent: RecipientState = { ...BOUNCED, status: 'sent', dsn: '2.0.0', action: 'relayed', diagnostic: '250 2.0.0 Ok: queued as X', remoteReply: '250 2.0.0 Ok: queued as X' };
    const d = await parseDsn(await composeDsn({ kind: 'relayed', record: RECORD, recipients: [sent], originalHeaders: HEADERS, reportingMta: 'relay.test', now: Date.now() }));
    assert.equal(d.mail.subject, 'Successful Mail Delivery Report');
    assert.equal(d.perRecipient[0]?.Action, 'relayed');
    assert.equal(d.perRecipient[0]?.Status, '2.0.0');
    assert.equal(d.perRecipient[0]?.['Remote-MTA'], 'dns; mx.dst.test');
    assert.equal(d.perRecipient[0]?.['Original-Recipient'], 'rfc822;Bob@Dst.test');
  });

  test('ENVID and ORCPT values that carry CR/LF cannot inject fields', async () => {
    const evil = { ...RECORD, envid: 'x\r\nAction: delivered' };
    const d = await parseDsn(await composeDsn({ kind: 'failed', record: evil, recipients: [{ ...BOUNCED, orcpt: 'rfc822;a\r\nStatus: 2.0.0' }], originalHeaders: HEADERS, reportingMta: 'relay.test', now: Date.now() }));
    assert.equal(d.perMessage['Original-Envelope-Id'], 'x Action: delivered');
    assert.equal(d.perRecipient.length, 1);
    assert.equal(d.perRecipient[0]?.Status, '5.1.1');
  });
});
