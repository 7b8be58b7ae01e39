/**
 * The scheduler's waiting messages, ordered by due time: a map for lookups
 * and a binary min-heap (ties in insertion order) for "what is due next".
 *
 * Contract: `set` replaces any earlier entry for the id (the old heap node
 * becomes stale and is skipped lazily); `takeDue(now)` removes and returns
 * the earliest entry due at or before `now`; `minDue()` is the earliest due
 * time. Every operation is O(log n) amortised, so a restart with a queue of
 * 100,000 messages does not scan the whole set per activation.
 */

interface Node { due: number; seq: number; id: string }

export class WaitingSet<T extends { due: number }> {
  private readonly map = new Map<string, { value: T; seq: number }>();
  private readonly heap: Node[] = [];
  private seq = 0;

  get size(): number {
    return this.map.size;
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  get(id: string): T | undefined {
    return this.map.get(id)?.value;
  }

  set(id: string, value: T): void {
    const seq = ++this.seq;
    this.map.set(id, { value, seq });
    this.push({ due: value.due, seq, id });
  }

  delete(id: string): void {
    this.map.delete(id);
  }

  *entries(): IterableIterator<[string, T]> {
    for (const [id, e] of this.map) yield [id, e.value];
  }

  /** Every entry due later than `now` becomes due at `now` (`queue flush`). */
  makeDue(now: number): void {
    for (const [id, e] of [...this.map]) if (e.value.due > now) this.set(id, { ...e.value, due: now });
  }

  minDue(): number | undefined {
    return this.top()?.due;
  }

  takeDue(now: number): [string, T] | undefined {
    const t = this.top();
    if (!t || t.due > now) return undefined;
    this.pop();
    const e = this.map.get(t.id);
    this.map.delete(t.id);
    return e ? [t.id, e.value] : undefined;
  }

  /** The earliest live node, after dropping stale ones. */
  private top(): Node | undefined {
    for (;;) {
      const t = this.heap[0];
      if (!t) return undefined;
      if (this.map.get(t.id)?.seq === t.seq) return t;
      this.pop();
    }
  }

  private less(a: Node, b: Node): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(n: Node): void {
    const h = this.heap;
    h.push(n);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as Node, h[p] as Node)) break;
      [h[i], h[p]] = [h[p] as Node, h[i] as Node];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Node, h[m] as Node)) m = l;
      if (r < h.length && this.less(h[r] as Node, h[m] as Node)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Node, h[i] as Node];
      i = m;
    }
  }
}
