/**
 * The scheduler's current delivery engine, swappable on reload: new jobs use
 * the newest one; `replace` resolves with the previous engine once none of
 * its deliver() calls is still running, so the caller can close it without
 * cutting a delivery short.
 */
import type { Deliverer } from './deliverer.ts';

export class DelivererSlot {
  private readonly usage = new Map<Deliverer, number>();
  private waiters: Array<() => void> = [];

  constructor(private deliverer: Deliverer) {}

  get current(): Deliverer {
    return this.deliverer;
  }

  /** Runs `fn` with the current engine, counted as in use until it settles. */
  async use<T>(fn: (d: Deliverer) => Promise<T>): Promise<T> {
    const d = this.deliverer;
    this.usage.set(d, (this.usage.get(d) ?? 0) + 1);
    try {
      return await fn(d);
    } finally {
      this.usage.set(d, (this.usage.get(d) ?? 1) - 1);
      for (const w of this.waiters.splice(0)) w();
    }
  }

  async replace(next: Deliverer): Promise<Deliverer> {
    const old = this.deliverer;
    this.deliverer = next;
    while ((this.usage.get(old) ?? 0) > 0) await new Promise<void>((r) => this.waiters.push(r));
    return old;
  }
}
