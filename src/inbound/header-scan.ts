/**
 * Reads what inbound needs from a message's header section as it streams in:
 * - the Message-ID, for the log (Postfix's cleanup logs `QID: message-id=<...>`);
 * - the number of `Received:` headers, the hop count (RFC 5321 §6.3: a
 *   loop is detected by counting them; Postfix `hopcount_limit`);
 * - `TLS-Required: No` (RFC 8689 §5).
 * Looks only at the header section: bytes up to the first empty line, at most
 * HEAD_LIMIT bytes of it; a folded header is unfolded. Never throws.
 */
const HEAD_LIMIT = 64 * 1024;

export class HeaderScanner {
  private head: Buffer[] = [];
  private size = 0;
  private done = false;
  private parsed: string | undefined;

  feed(chunk: Buffer): void {
    if (this.done) return;
    const take = chunk.subarray(0, HEAD_LIMIT - this.size);
    this.head.push(take);
    this.size += take.length;
    if (this.size >= HEAD_LIMIT || take.includes('\r\n\r\n') || take.includes('\n\n')) this.done = true;
  }

  /** The unfolded header section seen so far. */
  private headers(): string {
    if (this.parsed !== undefined && this.done) return this.parsed;
    const text = Buffer.concat(this.head, this.size).toString('latin1');
    const end = text.search(/\r?\n\r?\n/);
    this.parsed = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
    return this.parsed;
  }

  /** The Message-ID without its angle brackets, or ''. */
  value(): string {
    const m = /^message-id:[ \t]*<?([^\s<>]{1,998})>?/im.exec(this.headers());
    return m?.[1] ?? '';
  }

  /** How many `Received:` header fields the message carries (our own not included). */
  receivedCount(): number {
    return this.headers().match(/^received:/gim)?.length ?? 0;
  }

  /** RFC 8689 §5: a `TLS-Required: No` header field is present. */
  tlsRequiredNo(): boolean {
    return /^tls-required:[ \t]*no[ \t]*$/im.test(this.headers());
  }
}
