import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecord, encodeTail, parseTrailer, TRAILER_MAX } from '../../src/queue/queue-file.ts';
import { newRecord } from '../../src/queue/record.ts';

const record = newRecord({ id: 'ABCDEF012345', sender: 'a@src.test', recipients: ['r@dst.test'], receivedAt: 1, size: 11, smtputf8: false, eightBit: false });
const content = Buffer.from('hello world');
const file = Buffer.concat([content, encodeTail(record)]);

describe('queue file format', () => {
  test('a file is content, record, trailer; the trailer locates the record', () => {
    const layout = parseTrailer(file.subarray(file.length - TRAILER_MAX), file.length);
    assert.equal(layout.kind, 'ok');
    if (layout.kind !== 'ok') return;
    assert.equal(layout.contentLength, content.length);
    const bytes = file.subarray(layout.recordStart, layout.recordStart + layout.recordLength);
    assert.deepEqual(checkRecord(bytes, layout, record.id), { kind: 'ok', record });
  });

  const bad: Array<[string, Buffer, number]> = [
    ['no trailer', Buffer.from('hello'), 5],
    ['trailer without final newline', Buffer.from('DRQ1 1 2'), 8],
    ['trailer not at the very end', Buffer.from('DRQ1 1 2\nx'), 10],
    ['lengths that do not add up to the file size', file.subarray(file.length - TRAILER_MAX), file.length + 1],
    ['absurd lengths', Buffer.from('DRQ1 9999999999999999 1\n'), 30],
    ['negative lengths', Buffer.from('DRQ1 -1 2\n'), 10],
  ];
  for (const [name, tail, size] of bad) test(`a trailer with ${name} is corrupt, never throws`, () => assert.equal(parseTrailer(tail, size).kind, 'corrupt'));

  test('a record whose size is not the content length, whose id is another, or that is cut short, is corrupt', () => {
    const json = Buffer.from(JSON.stringify(record));
    assert.equal(checkRecord(json, { contentLength: 11 }, record.id).kind, 'ok');
    assert.equal(checkRecord(json, { contentLength: 12 }, record.id).kind, 'corrupt');
    assert.equal(checkRecord(json, { contentLength: 11 }, 'ABCDEF000000').kind, 'corrupt');
    assert.equal(checkRecord(json.subarray(0, 10), { contentLength: 11 }, record.id).kind, 'corrupt');
  });
});
