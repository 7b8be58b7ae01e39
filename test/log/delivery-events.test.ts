/**
 * log/delivery-events: typed events with Postfix-wording `msg` lines (C30).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  deliveryEventOf, emitEvent, formatDelays, formatSeconds, hostSkippedEventOf, injectionEventOf, tlsEventOf,
  LOGGED_TLS_STATES,
} from '../../src/log/delivery-events.ts';
import { parseLine, TLS_STATES } from '../../src/tools/report/event.ts';

const ep = { domain: 'example.net', mx: 'mx.example.net', ip: '192.0.2.1', port: 25 };

describe('Postfix wording', () => {
  test('C30: TLS session line', () => {
    const e = tlsEventOf({
      ...ep, qid: 'Q1', mxSecure: true, tlsaSecure: true, reason: 'secure TLSA',
      tls: { state: 'Verified', level: 'dane', feature: 'dane', protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', bits: 256 },
      dane: { result: 'ok', base: 'mx.example.net', match: '3 1 1 abcd depth=0' },
    });
    assert.equal(e.msg, 'Verified TLS connection established to mx.example.net[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)');
    assert.equal(e.event, 'tls');
  });
  test('delivery line with delays', () => {
    const { delay, delays } = formatDelays({ beforeMs: 10, queueMs: 0, setupMs: 200, transmitMs: 100 });
    assert.equal(delays, '0.01/0/0.2/0.1');
    const e = deliveryEventOf({ qid: 'Q1', rcpt: 'a@example.net', ...ep, relay: 'mx.example.net[192.0.2.1]:25', dsn: '2.0.0', status: 'sent', delay, delays }, '250 2.0.0 Ok');
    assert.equal(e.msg, 'to=<a@example.net>, relay=mx.example.net[192.0.2.1]:25, delay=0.31, delays=0.01/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)');
  });
  test('delivery line carries tls= and conn_use when reused', () => {
    const e = deliveryEventOf({
      qid: 'Q', rcpt: 'b@x', domain: 'x', relay: 'none', dsn: '4.7.5', status: 'deferred', delay: 12.3, delays: '12/0/0.3/0', connUse: 3,
      tls: { state: 'none', level: 'dane', feature: 'dane' },
    }, 'Server certificate not verified');
    assert.equal(e.msg, 'to=<b@x>, relay=none, conn_use=3, delay=12, delays=12/0/0.3/0, tls=dane, dsn=4.7.5, status=deferred (Server certificate not verified)');
  });
  test('skipped host lines name the host once (the reason often names it already)', () => {
    assert.equal(hostSkippedEventOf({ qid: 'Q', domain: 'x', mx: 'mx.example.net', port: 25, dsn: '4.7.5', reason: 'TLSA lookup error for mx.example.net:25', cause: 'tlsa_lookup_failure' }).msg,
      'TLSA lookup error for mx.example.net:25');
    assert.equal(hostSkippedEventOf({ qid: 'Q', domain: 'x', mx: 'mx.example.net', ip: '192.0.2.1', port: 25, dsn: '4.7.4', reason: 'TLS is required, but was not offered by host mx.example.net[192.0.2.1]', cause: 'starttls_missing' }).msg,
      'TLS is required, but was not offered by host mx.example.net[192.0.2.1]');
    assert.equal(hostSkippedEventOf({ qid: 'Q', domain: 'x', mx: 'mx36.dane.lab', port: 25, dsn: '4.7.5', reason: 'mx36.dane.lab:25: dane-only: no DNSSEC-validated TLSA records (nxdomain)', cause: 'dane_required' }).msg,
      'mx36.dane.lab:25: dane-only: no DNSSEC-validated TLSA records (nxdomain)', 'the doubled prefix of the issue');
    assert.equal(hostSkippedEventOf({ qid: 'Q', domain: 'x', mx: 'mx.example.net', ip: '192.0.2.1', port: 25, dsn: '4.7.5', reason: 'Server certificate not verified', cause: 'tlsa_mismatch' }).msg,
      'mx.example.net[192.0.2.1]:25: Server certificate not verified');
  });
  test('seconds formatting', () => {
    assert.deepEqual([0, 0.001, 0.04, 0.456, 1.234, 9.99, 12.6].map(formatSeconds), ['0', '0.01', '0.04', '0.46', '1.2', '10', '13']);
  });
});

describe('emitEvent', () => {
  test('writes nested fields and msg through pino', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const logger = pino({ level: 'info' }, sink);
    emitEvent(logger, injectionEventOf({ ...ep, qid: 'Q', discardedBytes: 12 }));
    emitEvent(logger, tlsEventOf({ ...ep, qid: 'Q', mxSecure: false, tlsaSecure: false, reason: 'r',
      tls: { state: 'Anonymous', level: 'may', feature: 'may:none' }, dane: { result: 'not_applicable', base: null, match: null } }));
    const [inj, tls] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(inj?.level, 40);
    assert.match(String(inj?.msg), /^plaintext data after STARTTLS/);
    assert.equal((tls?.tls as { state: string }).state, 'Anonymous');
    assert.equal(tls?.event, 'tls');
  });
});

describe('one vocabulary for writers and readers', () => {
  test('C30: a delivery without TLS is logged as tls.state none and read back by report as none', () => {
    const e = deliveryEventOf({
      qid: 'Q9', rcpt: 'a@example.net', ...ep, relay: 'mx.example.net[192.0.2.1]:25', dsn: '2.0.0', status: 'sent', delay: 0.1, delays: '0/0/0/0.1',
      tls: { state: 'none', level: 'may', feature: 'may:none' },
    }, '250 2.0.0 Ok');
    const read = parseLine(JSON.stringify({ level: 30, time: 0, ...e }));
    assert.equal(read?.kind, 'delivery');
    if (read?.kind === 'delivery') assert.equal(read.state, 'none');
    assert.ok((TLS_STATES as readonly string[]).includes(e.tls?.state ?? ''), 'report knows every logged state');
    assert.deepEqual([...TLS_STATES], [...LOGGED_TLS_STATES]);
  });
});
