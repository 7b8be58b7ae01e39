/**
 * The persisted MTA-STS policy cache (RFC 8461 §3.3, §5.1): one JSON file in
 * the spool, `<spool>/sts/policies.json`, replaced atomically (tmp + fsync +
 * rename + directory fsync) on every change, so a cached policy survives a
 * restart and keeps being enforced (an attacker who blocks the fetch right
 * after a restart gains nothing).
 *
 * Contract:
 * - `StsCacheStore.open(spool)` loads the file; each entry's policy text is
 *   re-parsed by core/sts-policy.ts, so what is enforced after a restart
 *   went through the same validation as a fresh fetch. An unreadable or
 *   corrupt file is moved aside to `policies.json.corrupt-<epoch ms>` and
 *   reported in `warnings` (non-negotiable 7: clear error, nothing lost,
 *   no crash); a bad entry is dropped and reported.
 * - `get(domain)` returns the entry even when expired (core decides);
 *   `put(entry)` replaces the domain's entry, drops expired ones, and
 *   resolves once the file is durable. Writes are serialised.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { CachedStsPolicy } from '../core/sts-cache-rules.ts';
import { parseStsPolicy } from '../core/sts-policy.ts';
import { writeFileAtomic } from './atomic-file.ts';

interface StoredEntry { domain: string; id: string; fetchedAt: number; expiresAt: number; policy: string }

function toStored(e: CachedStsPolicy): StoredEntry {
  return { domain: e.domain, id: e.id, fetchedAt: e.fetchedAt, expiresAt: e.expiresAt, policy: e.policy.lines.join('\n') };
}

function fromStored(raw: unknown): CachedStsPolicy | string {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<StoredEntry>;
  if (typeof o.domain !== 'string' || typeof o.id !== 'string' || typeof o.policy !== 'string'
    || !Number.isFinite(o.fetchedAt) || !Number.isFinite(o.expiresAt)) return 'entry with missing fields';
  const parsed = parseStsPolicy(o.policy);
  if (parsed.kind !== 'policy') return `${o.domain}: stored policy invalid: ${parsed.reason}`;
  return { domain: o.domain, id: o.id, policy: parsed.policy, fetchedAt: o.fetchedAt as number, expiresAt: o.expiresAt as number };
}

export class StsCacheStore {
  readonly path: string;
  readonly warnings: string[] = [];
  private readonly entries = new Map<string, CachedStsPolicy>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(path: string, private readonly now: () => number) {
    this.path = path;
  }

  static async open(spool: string, now: () => number = Date.now): Promise<StsCacheStore> {
    const store = new StsCacheStore(join(spool, 'sts', 'policies.json'), now);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let list: unknown;
    try {
      list = JSON.parse(text);
      if (!Array.isArray(list)) throw new Error('not a JSON array');
    } catch (err) {
      const aside = `${this.path}.corrupt-${this.now()}`;
      await rename(this.path, aside);
      this.warnings.push(`MTA-STS cache ${this.path} unreadable (${(err as Error).message}); moved to ${aside}`);
      return;
    }
    for (const raw of list) {
      const e = fromStored(raw);
      if (typeof e === 'string') this.warnings.push(`MTA-STS cache: dropped ${e}`);
      else this.entries.set(e.domain, e);
    }
  }

  get(domain: string): CachedStsPolicy | null {
    return this.entries.get(domain) ?? null;
  }

  all(): CachedStsPolicy[] {
    return [...this.entries.values()];
  }

  put(entry: CachedStsPolicy): Promise<void> {
    this.entries.set(entry.domain, entry);
    const now = this.now();
    for (const [d, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(d);
    const data = `${JSON.stringify([...this.entries.values()].map(toStored), null, 1)}\n`;
    const next = this.writing.catch(() => undefined).then(() => writeFileAtomic(this.path, data));
    this.writing = next;
    return next;
  }
}
