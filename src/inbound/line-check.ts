/**
 * Incremental check of a DATA stream (after dot-unstuffing) for SMTP
 * smuggling line endings and overlong lines. Pure; fed chunk by chunk.
 *
 * - A LF not preceded by CR (bare LF) or a CR not followed by LF (bare CR)
 *   is a violation: the message is rejected, never normalised (Postfix
 *   `smtpd_forbid_bare_newline` stance; RFC 5321 section 2.3.8). This also
 *   rejects `<LF>.<LF>` and `<CR><LF>.<LF>` smuggling sequences, which
 *   smtp-server passes through as content.
 * - A line longer than `maxLineLength` octets (CRLF not counted) is a
 *   violation (RFC 5321 section 4.5.3.1.6 sets 1000 including CRLF).
 * - Any octet > 127 marks the body 8-bit.
 */
export type LineViolation =
  | { kind: 'bare-lf'; reply: { code: 550; text: string } }
  | { kind: 'bare-cr'; reply: { code: 550; text: string } }
  | { kind: 'line-too-long'; reply: { code: 500; text: string } };

const BARE_LF: LineViolation = { kind: 'bare-lf', reply: { code: 550, text: '5.5.2 Message contains bare LF' } };
const BARE_CR: LineViolation = { kind: 'bare-cr', reply: { code: 550, text: '5.5.2 Message contains bare CR' } };
const TOO_LONG: LineViolation = { kind: 'line-too-long', reply: { code: 500, text: '5.5.2 Message line too long' } };

export class LineChecker {
  private lineLength = 0;
  private pendingCr = false;
  eightBit = false;
  violation: LineViolation | undefined;

  constructor(private readonly maxLineLength: number) {}

  /** Feeds one chunk; returns the first violation seen so far, if any. */
  feed(chunk: Uint8Array): LineViolation | undefined {
    if (this.violation) return this.violation;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] ?? 0;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (b !== 0x0a) return (this.violation = BARE_CR);
        this.lineLength = 0;
        continue;
      }
      if (b === 0x0d) this.pendingCr = true;
      else if (b === 0x0a) return (this.violation = BARE_LF);
      else {
        if (b > 0x7f) this.eightBit = true;
        if (++this.lineLength > this.maxLineLength) return (this.violation = TOO_LONG);
      }
    }
    return undefined;
  }

  /** End of data: a trailing lone CR is a bare CR. */
  finish(): LineViolation | undefined {
    if (!this.violation && this.pendingCr) this.violation = BARE_CR;
    return this.violation;
  }
}
