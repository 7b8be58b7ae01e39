/**
 * The TLSRPT attempt store: append-only, one file per UTC day in the spool,
 * `<spool>/tlsrpt/YYYY-MM-DD.jsonl`, one JSON attempt per line (RFC 8460
 * §4: reports cover UTC days).
 *
 * Contract:
 * - `record(attempt)` appends one line with a single write to a file opened
 *   in append mode, and resolves when the write returned: from then on the
 *   line survives the relay being killed (-9). `sync()` fsyncs (done on day
 *   rollover and `close()`), which makes it survive a power loss too.
 *   Appends are serialised; a write error rejects (the caller logs it:
 *   reporting must never stop delivery).
 * - `read(day)` returns the day's attempts; a line that does not parse or
 *   lacks the attempt's shape (e.g. torn by a crash mid-write) is skipped
 *   and reported in `warnings` (non-negotiable 7).
 * - `days()` lists the days on disk, oldest first.
 */
import { mkdir, open, readFile, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { TlsrptAttempt } from './result-types.ts';
import { TLSRPT_RESULT_TYPES } from './result-types.ts';

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

function isAttempt(v: unknown): v is TlsrptAttempt {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const r = (typeof o.result === 'object' && o.result !== null ? o.result : {}) as Record<string, unknown>;
  const resultOk = r.kind === 'success' || (r.kind === 'failure' && (TLSRPT_RESULT_TYPES as readonly string[]).includes(String(r.resultType)));
  return typeof o.at === 'number' && typeof o.policyDomain === 'string' && ['tlsa', 'sts', 'no-policy-found'].includes(String(o.policyType))
    && Array.isArray(o.policyStrings) && Array.isArray(o.mxHost) && typeof o.receivingMxHostname === 'string' && resultOk;
}

export class TlsrptStore {
  readonly dir: string;
  private current: { day: string; fh: FileHandle } | null = null;
  private chain: Promise<void> = Promise.resolve();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(spool: string): Promise<TlsrptStore> {
    const dir = join(spool, 'tlsrpt');
    await mkdir(dir, { recursive: true });
    return new TlsrptStore(dir);
  }

  private async handleFor(day: string): Promise<FileHandle> {
    if (this.current?.day === day) return this.current.fh;
    if (this.current) {
      const old = this.current.fh;
      this.current = null;
      await old.sync();
      await old.close();
    }
    const fh = await open(join(this.dir, `${day}.jsonl`), 'a', 0o600);
    this.current = { day, fh };
    return fh;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.catch(() => undefined).then(fn);
    this.chain = p.then(() => undefined, () => undefined);
    return p;
  }

  record(attempt: TlsrptAttempt): Promise<void> {
    const line = `${JSON.stringify(attempt)}\n`;
    return this.serial(async () => {
      const fh = await this.handleFor(utcDay(attempt.at));
      await fh.write(line);
    });
  }

  sync(): Promise<void> {
    return this.serial(async () => { await this.current?.fh.sync(); });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      if (!this.current) return;
      const { fh } = this.current;
      this.current = null;
      await fh.sync();
      await fh.close();
    });
  }

  async days(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.map((n) => DAY_FILE.exec(n)?.[1]).filter((d): d is string => d !== undefined).sort();
  }

  async read(day: string): Promise<{ attempts: TlsrptAttempt[]; warnings: string[] }> {
    let text = '';
    try {
      text = await readFile(join(this.dir, `${day}.jsonl`), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { attempts: [], warnings: [] };
      throw err;
    }
    const attempts: TlsrptAttempt[] = [];
    const warnings: string[] = [];
    text.split('\n').forEach((line, i) => {
      if (line === '') return;
      try {
        const v: unknown = JSON.parse(line);
        if (isAttempt(v)) attempts.push(v);
        else warnings.push(`${day}.jsonl line ${i + 1}: not a TLSRPT attempt, skipped`);
      } catch {
        warnings.push(`${day}.jsonl line ${i + 1}: does not parse (torn write?), skipped`);
      }
    });
    return { attempts, warnings };
  }
}
