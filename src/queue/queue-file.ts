/**
 * The queue file format: one file per message holding its content and its
 * control record, as Postfix keeps envelope and content in one queue file.
 *
 *     <content: Received header + message as received, CRLF lines>
 *     <record: JSON (record.ts), one line>\n
 *     DRQ1 <content length> <record length>\n          <- the trailer
 *
 * The record comes after the content so inbound can stream the content to
 * disk and append the record once the content is complete (its size and
 * 8-bit flag are known only then): one file, one write batch, one fsync per
 * message. The record's `size` is the content length, so a reader can open
 * the content without reading the trailer first.
 *
 * Contract: pure functions, no I/O. `parseTrailer` never throws: a file
 * whose trailer is missing, malformed or does not add up to the file size is
 * `corrupt` (spool.ts moves it to `corrupt/`); `checkRecord` adds the checks
 * that need the parsed record (its size must be the content length).
 */
import { parseRecord, serializeRecord, type ParsedRecord, type QueueRecord } from './record.ts';

/** Bytes read from the end of a file to find the trailer (it is far shorter). */
export const TRAILER_MAX = 64;

const TRAILER = /DRQ1 (\d{1,15}) (\d{1,15})\n$/;

/** Record line + trailer, appended after `record.size` bytes of content. */
export function encodeTail(record: QueueRecord): Buffer {
  const json = serializeRecord(record);
  const trailer = Buffer.from(`DRQ1 ${record.size} ${json.length}\n`, 'latin1');
  return Buffer.concat([json, trailer], json.length + trailer.length);
}

export type Layout = { kind: 'ok'; contentLength: number; recordStart: number; recordLength: number } | { kind: 'corrupt'; reason: string };

/** Where content and record are, from the last (up to TRAILER_MAX) bytes of a file of `fileSize` bytes. */
export function parseTrailer(tail: Buffer, fileSize: number): Layout {
  const m = TRAILER.exec(tail.toString('latin1'));
  if (!m) return { kind: 'corrupt', reason: 'no queue file trailer (truncated or not a queue file)' };
  const contentLength = Number(m[1]);
  const recordLength = Number(m[2]);
  const trailerLength = (m[0] as string).length;
  if (contentLength + recordLength + trailerLength !== fileSize) {
    return { kind: 'corrupt', reason: `queue file trailer says ${contentLength}+${recordLength}+${trailerLength} bytes, file has ${fileSize}` };
  }
  return { kind: 'ok', contentLength, recordStart: contentLength, recordLength };
}

/** Parses the record bytes of a queue file and checks them against the trailer. */
export function checkRecord(recordBytes: Buffer, layout: { contentLength: number }, expectedId: string): ParsedRecord {
  const parsed = parseRecord(recordBytes.toString('utf8'), expectedId);
  if (parsed.kind === 'ok' && parsed.record.size !== layout.contentLength) {
    return { kind: 'corrupt', reason: `record size ${parsed.record.size} but ${layout.contentLength} bytes of content` };
  }
  return parsed;
}
