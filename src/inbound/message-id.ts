/**
 * Finds the Message-ID of a message as it streams in, for the log (Postfix's
 * cleanup logs `QID: message-id=<...>`). Looks only at the header section:
 * bytes up to the first empty line, at most HEAD_LIMIT bytes of it; a folded
 * header is unfolded. Never throws; `value()` is '' when there is none.
 */
const HEAD_LIMIT = 64 * 1024;

export class MessageIdScanner {
  private head: Buffer[] = [];
  private size = 0;
  private done = false;

  feed(chunk: Buffer): void {
    if (this.done) return;
    const take = chunk.subarray(0, HEAD_LIMIT - this.size);
    this.head.push(take);
    this.size += take.length;
    if (this.size >= HEAD_LIMIT || take.includes('\r\n\r\n') || take.includes('\n\n')) this.done = true;
  }

  /** The Message-ID without its angle brackets, or ''. */
  value(): string {
    const text = Buffer.concat(this.head, this.size).toString('latin1');
    const end = text.search(/\r?\n\r?\n/);
    const headers = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
    const m = /^message-id:[ \t]*<?([^\s<>]{1,998})>?/im.exec(headers);
    return m?.[1] ?? '';
  }
}
