/**
 * The queue file format: one file per message holding its content and its
 * control record, as Postfix keeps envelope and content in one queue file.
 *
 *     <content: Received header + message as received, CRLF lines>
 *     <record: JSON (record.ts), one line>\n
 *     DRQ2 <content length> <record length> <crc32>\n   <- the trailer
 *
 * The record comes after the content so inbound can stream the content to
 * disk and append the record once the content is complete (its size and
 * 8-bit flag are known only then): one file, one write batch, one fsync per
 * message. The record's `size` is the content length, so a reader can open
 * the content without reading the trailer first.
 *
 * The checksum (CRC-32, 8 hex digits) covers content and record. A new
 * message is renamed into its queue directory before its one fsync
 * (spool.ts), so after a power loss a file whose fsync had not completed
 * can be there with its trailer written and a block before it not: the
 * checksum tells such a torn file from a whole one (`setAsideTorn()` checks
 * every file a crash can have left half-synced). Files written before the
 * checksum existed end in `DRQ1 <content length> <record length>` and are
 * read as before.
 *
 * Contract: pure functions, no I/O. `parseTrailer` never throws: a file
 * whose trailer is missing, malformed or does not add up to the file size is
 * `corrupt` (spool.ts moves it to `corrupt/`); `checkRecord` adds the checks
 * that need the parsed record (its size must be the content length);
 * `checkBody` checks the checksum against the bytes before the trailer.
 */
import { crc32 } from 'node:zlib';
import { parseRecord, serializeRecord, type ParsedRecord, type QueueRecord } from './record.ts';

/** Bytes read from the end of a file to find the trailer (it is far shorter). */
export const TRAILER_MAX = 64;

const TRAILER = /DRQ(?:1 (\d{1,15}) (\d{1,15})|2 (\d{1,15}) (\d{1,15}) ([0-9a-f]{8}))\n$/;

/** The running CRC-32 of the bytes written so far (start with 0). */
export function checksum(bytes: Uint8Array, previous = 0): number {
  return crc32(bytes, previous);
}

/** A checksum as the trailer writes it: 8 lowercase hex digits. */
const crcText = (crc: number): string => crc.toString(16).padStart(8, '0');

/** Record line + trailer, appended after `record.size` bytes of content whose CRC-32 is `contentCrc`. */
export function encodeTail(record: QueueRecord, contentCrc: number): Buffer {
  const json = serializeRecord(record);
  const crc = crcText(checksum(json, contentCrc));
  const trailer = Buffer.from(`DRQ2 ${record.size} ${json.length} ${crc}\n`, 'latin1');
  return Buffer.concat([json, trailer], json.length + trailer.length);
}

/** `crc`: the checksum of content + record (absent in a `DRQ1` file). */
export type Layout = { kind: 'ok'; contentLength: number; recordStart: number; recordLength: number; crc?: number } | { kind: 'corrupt'; reason: string };

/** Where content and record are, from the last (up to TRAILER_MAX) bytes of a file of `fileSize` bytes. */
export function parseTrailer(tail: Buffer, fileSize: number): Layout {
  const m = TRAILER.exec(tail.toString('latin1'));
  if (!m) return { kind: 'corrupt', reason: 'no queue file trailer (truncated or not a queue file)' };
  const contentLength = Number(m[1] ?? m[3]);
  const recordLength = Number(m[2] ?? m[4]);
  const trailerLength = (m[0] as string).length;
  if (contentLength + recordLength + trailerLength !== fileSize) {
    return { kind: 'corrupt', reason: `queue file trailer says ${contentLength}+${recordLength}+${trailerLength} bytes, file has ${fileSize}` };
  }
  return { kind: 'ok', contentLength, recordStart: contentLength, recordLength, ...(m[5] !== undefined ? { crc: parseInt(m[5], 16) } : {}) };
}

/** Whether content + record (`body`: the file's bytes before the trailer) match the trailer's checksum; a `DRQ1` file has none to check. */
export function checkBody(body: Uint8Array, layout: { crc?: number }): { kind: 'ok' } | { kind: 'corrupt'; reason: string } {
  if (layout.crc === undefined) return { kind: 'ok' };
  const crc = checksum(body);
  if (crc === layout.crc) return { kind: 'ok' };
  return { kind: 'corrupt', reason: `checksum ${crcText(crc)} of content and record, trailer says ${crcText(layout.crc)} (torn by a crash before its fsync, or damaged)` };
}

/** Parses the record bytes of a queue file and checks them against the trailer. */
export function checkRecord(recordBytes: Buffer, layout: { contentLength: number }, expectedId: string): ParsedRecord {
  const parsed = parseRecord(recordBytes.toString('utf8'), expectedId);
  if (parsed.kind === 'ok' && parsed.record.size !== layout.contentLength) {
    return { kind: 'corrupt', reason: `record size ${parsed.record.size} but ${layout.contentLength} bytes of content` };
  }
  return parsed;
}
