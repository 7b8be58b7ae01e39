/**
 * A pino destination that keeps the relay's JSON log lines in memory, so the
 * lab can observe delivery outcomes the way an operator would read them
 * (the typed events of src/log/delivery-events.ts, C30).
 *
 * Contract: every complete line that parses as a JSON object is kept in
 * order; other lines are counted in `unparsed`. `waitFor` resolves with the
 * first event (already seen or arriving later) matching the predicate, or
 * undefined after `timeoutMs` (bounded wait); `cancelWaiters` ends them all.
 * Optionally tees each line to `echo` (e.g. a file stream for --keep).
 */
import { Writable } from 'node:stream';

export type LogEvent = Record<string, unknown>;

interface Waiter { pred: (e: LogEvent) => boolean; resolve: (e: LogEvent | undefined) => void; timer: NodeJS.Timeout }

const MAX_EVENTS = 100_000;

export class EventCollector extends Writable {
  readonly events: LogEvent[] = [];
  unparsed = 0;
  private tail = '';
  private waiters = new Set<Waiter>();

  constructor(private readonly echo?: (line: string) => void) {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.tail += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl = this.tail.indexOf('\n');
    while (nl >= 0) {
      this.accept(this.tail.slice(0, nl));
      this.tail = this.tail.slice(nl + 1);
      nl = this.tail.indexOf('\n');
    }
    cb();
  }

  private accept(line: string): void {
    if (line.trim() === '') return;
    this.echo?.(line);
    let e: unknown;
    try { e = JSON.parse(line); } catch { this.unparsed++; return; }
    if (!e || typeof e !== 'object' || Array.isArray(e)) { this.unparsed++; return; }
    if (this.events.length < MAX_EVENTS) this.events.push(e as LogEvent);
    for (const w of this.waiters) {
      if (w.pred(e as LogEvent)) { this.waiters.delete(w); clearTimeout(w.timer); w.resolve(e as LogEvent); }
    }
  }

  /** First event matching `pred` at index ≥ `from` (already kept or arriving within `timeoutMs`). */
  waitFor(pred: (e: LogEvent) => boolean, timeoutMs: number, from = 0): Promise<LogEvent | undefined> {
    const seen = this.events.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w: Waiter = { pred, resolve, timer: setTimeout(() => { this.waiters.delete(w); resolve(undefined); }, timeoutMs) };
      this.waiters.add(w);
    });
  }

  /** Resolve every pending waiter with undefined (shutdown). */
  cancelWaiters(): void {
    for (const w of this.waiters) { clearTimeout(w.timer); w.resolve(undefined); }
    this.waiters.clear();
  }
}

/** A field by dotted path: nested objects first (`{tls:{state}}`), then a literal dotted key. */
export function field(e: LogEvent, path: string): unknown {
  let cur: unknown = e;
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object') { cur = undefined; break; }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur !== undefined ? cur : e[path];
}

export function str(e: LogEvent | undefined, path: string): string | undefined {
  if (!e) return undefined;
  const v = field(e, path);
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}
