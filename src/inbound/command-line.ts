/**
 * Overlong SMTP command lines get `500 5.5.2 Error: command line too long`
 * and the session goes on (RFC 5321 §4.5.3.1.4: 512 octets is the minimum a
 * server must accept; §4.2.2 / §4.5.3.1.10: a line too long is answered
 * 500; Postfix answers 500 5.5.2 and keeps reading).
 *
 * smtp-server 3.21.x instead fails its command parser (`SMTPStream`) with
 * "Command line too long", answers `421 4.4.2` and closes the connection, so
 * a client that retries loops forever. This module patches (once)
 * `SMTPConnection.prototype._createParser`: every new parser (the plaintext
 * one and the one created after STARTTLS) gets a filter in front of its
 * `_write` that, in command mode, passes a line through while it is within
 * `maxCommandLength` and otherwise drops the rest of it up to its LF and
 * replaces it with a marker line; `_onCommand` answers the marker (and any
 * line longer than the limit that reached it another way) with the 500 and
 * resumes the parser. The buffered part of a line is never more than the
 * limit, whatever the client sends (no unbounded memory).
 *
 * Data mode is never filtered: a chunk is fed up to and including a line
 * that starts with DATA, and the rest only after the parser has handled it,
 * so message content (checked by line-check.ts) is passed untouched.
 * Relies on smtp-server internals (`_createParser`, `_onCommand`,
 * `_dataMode`, `_maxCommandLength`, `_whenWritable`, `_nextHandler`):
 * pinned by the lock file and by test/inbound/command-line.test.ts, which
 * also pins the stock behaviour we replace.
 */
import { randomBytes } from 'node:crypto';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

export const COMMAND_TOO_LONG = { code: 500, text: '5.5.2 Error: command line too long' } as const;

/** A line no client can guess (a NUL and 16 random bytes): stands for "the line was too long". */
const MARKER = Buffer.from(`\x00dane-relay-overlong-${randomBytes(16).toString('hex')}`, 'latin1');
const PATCHED = Symbol.for('dane-relay.command-line-limit');
/** Headroom of the parser's own limit above ours: a line that bypassed the filter still reaches `_onCommand`. */
const PARSER_HEADROOM = 64 * 1024;

/**
 * The pure part: splits command-mode input into what the parser may see.
 * `step` consumes input up to and including the next LF that ends a line
 * starting with DATA/BDAT (or all of it) and returns the bytes to feed.
 */
export class CommandLineFilter {
  private lineLength = 0;
  private skipping = false;
  private head = '';

  constructor(private readonly limit: number, private readonly marker: Buffer = MARKER) {}

  /** The parser went to data mode and back: start a fresh line. */
  reset(): void {
    this.lineLength = 0;
    this.skipping = false;
    this.head = '';
  }

  step(input: Buffer): { feed: Buffer; consumed: number } {
    const parts: Buffer[] = [];
    let pos = 0;
    while (pos < input.length) {
      const lf = input.indexOf(0x0a, pos);
      const end = lf < 0 ? input.length : lf + 1;
      const seg = input.subarray(pos, end);
      pos = end;
      if (!this.skipping) {
        const content = lf < 0 ? seg.length : seg.length - 1;
        // +1: the CR of CRLF is still counted here when a chunk ends between CR and LF.
        if (this.lineLength + content > this.limit + 1) this.skipping = true;
        else {
          parts.push(seg);
          if (this.head.length < 5) this.head += seg.subarray(0, 5 - this.head.length).toString('latin1');
          this.lineLength += content;
        }
      }
      if (lf < 0) break;
      if (this.skipping) parts.push(this.marker, Buffer.from('\r\n'));
      const startsData = !this.skipping && /^(DATA|BDAT)\b/i.test(this.head);
      this.reset();
      if (startsData) break;
    }
    return { feed: Buffer.concat(parts), consumed: pos };
  }
}

interface Parser {
  _dataMode: boolean;
  _maxCommandLength: number;
  _write(chunk: Buffer, encoding: BufferEncoding, next: (err?: Error | null) => void): void;
}

interface Connection {
  _server: { options: { maxCommandLength?: number } };
  _upgrading: boolean;
  _nextHandler: unknown;
  send(code: number, text: string): void;
  _whenWritable(next: () => void): void;
}

function limitOf(conn: Connection): number {
  return conn._server.options.maxCommandLength ?? 512;
}

/** Puts the filter in front of one parser's `_write`. */
function filterParser(parser: Parser, limit: number): void {
  const original = parser._write.bind(parser);
  const filter = new CommandLineFilter(limit);
  parser._maxCommandLength = limit + PARSER_HEADROOM;
  parser._write = (chunk, encoding, next) => {
    const feed = (rest: Buffer): void => {
      if (rest.length === 0) return next();
      if (parser._dataMode) {
        filter.reset();
        return original(rest, encoding, next);
      }
      const { feed: out, consumed } = filter.step(rest);
      const after = rest.subarray(consumed);
      if (out.length === 0) return feed(after);
      if (after.length === 0) return original(out, encoding, next);
      original(out, encoding, (err) => (err ? next(err) : feed(after)));
    };
    feed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
  };
}

/** Installs the patch once per process (idempotent). */
export function answerOverlongCommands(): void {
  const proto = SMTPConnection.prototype as unknown as {
    _createParser(this: Connection): Parser;
    _onCommand(this: Connection, command: Buffer, callback?: () => void): void;
    [PATCHED]?: true;
  };
  if (proto[PATCHED]) return;
  const create = proto._createParser;
  const onCommand = proto._onCommand;
  proto._createParser = function createParser(this: Connection) {
    const parser = create.call(this);
    filterParser(parser, limitOf(this));
    return parser;
  };
  proto._onCommand = function handleCommand(this: Connection, command, callback) {
    const overlong = command.length > limitOf(this) || command.subarray(command.length - MARKER.length).equals(MARKER);
    if (!overlong || this._upgrading) return onCommand.call(this, command, callback);
    // An overlong line inside an AUTH exchange ends that exchange.
    this._nextHandler = false;
    this.send(COMMAND_TOO_LONG.code, COMMAND_TOO_LONG.text);
    const next = callback ?? (() => undefined);
    setImmediate(() => this._whenWritable(next));
  };
  proto[PATCHED] = true;
}
