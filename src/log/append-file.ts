/**
 * A log file the relay appends to: `log.file` and `log.maillog`.
 *
 * Contract:
 * - Each line (pino hands over one string per log call) is appended with
 *   one synchronous `write(2)` on a descriptor opened `O_APPEND` before the
 *   log call returns: a line logged before a `kill -9` is in the file, and
 *   the listener and delivery threads, each with its own descriptor, never
 *   interleave inside a line. On this machine an append costs a few
 *   microseconds of CPU, less than handing it to the thread pool (the
 *   benchmark's figures are in the README).
 * - A write that fails (a full disk: ENOSPC, EDQUOT, EIO) never throws to
 *   the caller and never becomes an `'error'` event: logging must not take
 *   a session or a delivery down with it (non-negotiable 7). The line is
 *   held in a backlog of at most `maxBacklogBytes`, written first by the
 *   next write that succeeds; what does not fit is dropped and counted.
 *   The first failure of an outage and its end (with the count dropped) are
 *   reported on stderr, which systemd sends to the journal.
 * - `reopen()` opens the file again by name (after logrotate renamed it);
 *   when that fails, lines keep going to the old descriptor and the failure
 *   is reported on stderr.
 * - `close()` ends it (tests; the daemon's files close when it exits).
 * - The constructor throws when the file cannot be opened (a configuration
 *   error, reported before the daemon starts).
 *
 * pino.destination (sonic-boom 4.2.1) was not used for files: its write
 * errors are `'error'` events that pino re-emits unhandled (an uncaught
 * exception per line, or a throw from the log call in synchronous mode),
 * and its `flushSync()` retries a write failing with ENOSPC forever, so a
 * process exiting with a full log disk hung (both seen on this machine).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AppendFileOptions {
  /** Bytes of lines held while the file cannot be written (default 4 MiB). */
  maxBacklogBytes?: number;
  /** Where outage notices go (default: stderr). */
  warn?: (text: string) => void;
}

export class AppendFile {
  private fd: number;
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private dropped = 0;
  private failing: string | null = null;
  private readonly maxBacklogBytes: number;
  private readonly warn: (text: string) => void;

  constructor(readonly path: string, opts: AppendFileOptions = {}) {
    this.maxBacklogBytes = opts.maxBacklogBytes ?? 4 * 1024 * 1024;
    this.warn = opts.warn ?? ((text) => void process.stderr.write(text));
    this.fd = AppendFile.open(path);
  }

  private static open(path: string): number {
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, 'a', 0o640);
  }

  write(line: string): void {
    if (this.fd < 0) return;
    const data = Buffer.from(line);
    this.drain();
    if (this.backlog.length > 0) return this.hold(data);
    const n = this.append(data);
    // The start of a line in the file makes its rest the next thing to write, held whatever the bound.
    if (n < data.length) this.hold(data.subarray(n), n > 0);
  }

  /** Writes what the backlog holds, if the file takes it now. */
  flushSync(): void {
    this.drain();
  }

  flush(cb?: (err?: Error) => void): void {
    this.drain();
    cb?.();
  }

  reopen(): void {
    let fd: number;
    try {
      fd = AppendFile.open(this.path);
    } catch (err) {
      this.warn(`dane-relay: log file ${this.path}: cannot reopen (${describe(err)}); still writing to the old file\n`);
      return;
    }
    const old = this.fd;
    this.fd = fd;
    try {
      closeSync(old);
    } catch {
      // The old descriptor is gone either way.
    }
    this.drain();
  }

  /** Writes what it can of the backlog and closes the file; later writes are dropped. */
  close(): void {
    this.drain();
    const fd = this.fd;
    this.fd = -1;
    if (fd >= 0) closeSync(fd);
  }

  /** Lines held now and dropped since the outage began (tests, diagnostics). */
  get held(): { lines: number; bytes: number; dropped: number } {
    return { lines: this.backlog.length, bytes: this.backlogBytes, dropped: this.dropped };
  }

  private hold(data: Buffer, always = false): void {
    if (!always && this.backlogBytes + data.length > this.maxBacklogBytes) {
      this.dropped++;
      return;
    }
    this.backlog.push(data);
    this.backlogBytes += data.length;
  }

  private drain(): void {
    while (this.backlog.length > 0) {
      const head = this.backlog[0] as Buffer;
      const n = this.append(head);
      this.backlogBytes -= n;
      if (n < head.length) {
        if (n > 0) this.backlog[0] = head.subarray(n);
        return;
      }
      this.backlog.shift();
    }
  }

  /** Appends `data`; returns the bytes written, all of them unless the file refused the rest. */
  private append(data: Buffer): number {
    let off = 0;
    try {
      while (off < data.length) {
        const n = writeSync(this.fd, data, off, data.length - off);
        // write(2) takes no byte without an error only on a file system that cannot: never loop on it.
        if (n <= 0) throw Object.assign(new Error('write took no bytes'), { code: 'EIO' });
        off += n;
      }
    } catch (err) {
      if (this.failing === null) {
        this.failing = describe(err);
        this.warn(`dane-relay: log file ${this.path}: write failed (${this.failing}); holding up to ${this.maxBacklogBytes} bytes of lines until it can be written\n`);
      }
      return off;
    }
    if (this.failing !== null) {
      this.warn(`dane-relay: log file ${this.path}: writable again after ${this.failing}${this.dropped > 0 ? `; ${this.dropped} lines were dropped` : ''}\n`);
      this.failing = null;
      this.dropped = 0;
    }
    return off;
  }
}

function describe(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}
