import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkBody, checkRecord, checksum, encodeTail, parseTrailer, TRAILER_MAX } from '../../src/queue/queue-file.ts';
import { serializeRecord } from '../../src/queue/record.ts';
import { newRecord } from '../../src/queue/record.ts';

const record = newRecord({ id: 'ABCDEF012345', sender: 'a@src.test', recipients: ['r@dst.test'], receivedAt: 1, size: 11, smtputf8: false, eightBit: false });
const content = Buffer.from('hello world');
const file = Buffer.concat([content, encodeTail(record, checksum(content))]);

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
    ['a checksum that is not 8 hex digits', Buffer.from('DRQ2 1 2 abc\n'), 16],
    ['a DRQ2 trailer without its checksum', Buffer.from('DRQ2 1 2\n'), 12],
    ['negative lengths', Buffer.from('DRQ1 -1 2\n'), 10],
  ];
  for (const [name, tail, size] of bad) test(`a trailer with ${name} is corrupt, never throws`, () => assert.equal(parseTrailer(tail, size).kind, 'corrupt'));

  test('the trailer carries the CRC-32 of content and record; the bytes before it match it', () => {
    const layout = parseTrailer(file.subarray(file.length - TRAILER_MAX), file.length);
    assert.equal(layout.kind, 'ok');
    if (layout.kind !== 'ok') return;
    assert.match(file.subarray(layout.recordStart + layout.recordLength).toString('latin1'), /^DRQ2 11 \d+ [0-9a-f]{8}\n$/);
    const body = file.subarray(0, layout.recordStart + layout.recordLength);
    assert.equal(layout.crc, checksum(body));
    assert.deepEqual(checkBody(body, layout), { kind: 'ok' });
  });

  test('a file torn by a crash (a block of zeros before an intact trailer, or one byte changed) fails the checksum', () => {
    const layout = parseTrailer(file.subarray(file.length - TRAILER_MAX), file.length);
    assert.equal(layout.kind, 'ok');
    if (layout.kind !== 'ok') return;
    const body = Buffer.from(file.subarray(0, layout.recordStart + layout.recordLength));
    const zeroed = Buffer.from(body);
    zeroed.fill(0, 0, 8);
    const flipped = Buffer.from(body);
    flipped[3] = (flipped[3] ?? 0) ^ 1;
    for (const torn of [zeroed, flipped]) {
      const checked = checkBody(torn, layout);
      assert.equal(checked.kind, 'corrupt');
      if (checked.kind === 'corrupt') assert.match(checked.reason, /checksum .* trailer says .*torn by a crash/);
    }
  });

  test('a file written before the checksum existed (DRQ1 trailer) is still read, with no checksum to check', () => {
    const json = serializeRecord(record);
    const old = Buffer.concat([content, json, Buffer.from(`DRQ1 ${content.length} ${json.length}\n`, 'latin1')]);
    const layout = parseTrailer(old.subarray(old.length - TRAILER_MAX), old.length);
    assert.equal(layout.kind, 'ok');
    if (layout.kind !== 'ok') return;
    assert.equal(layout.crc, undefined);
    assert.deepEqual(checkRecord(old.subarray(layout.recordStart, layout.recordStart + layout.recordLength), layout, record.id), { kind: 'ok', record });
    assert.deepEqual(checkBody(Buffer.from('anything'), layout), { kind: 'ok' });
  });

  test('a record whose size is not the content length, whose id is another, or that is cut short, is corrupt', () => {
    const json = Buffer.from(JSON.stringify(record));
    assert.equal(checkRecord(json, { contentLength: 11 }, record.id).kind, 'ok');
    assert.equal(checkRecord(json, { contentLength: 12 }, record.id).kind, 'corrupt');
    assert.equal(checkRecord(json, { contentLength: 11 }, 'ABCDEF000000').kind, 'corrupt');
    assert.equal(checkRecord(json.subarray(0, 10), { contentLength: 11 }, record.id).kind, 'corrupt');
  });
});
