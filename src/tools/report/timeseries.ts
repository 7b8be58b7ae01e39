/**
 * Counts of TLS states over time in a bounded number of buckets.
 *
 * Contract: memory is bounded by `maxBuckets` whatever the time span: when a
 * new bucket would exceed it, the bucket width doubles and existing buckets
 * are merged (counts are preserved exactly; only resolution is lost).
 * Events without a time are not counted here. Pure data, no I/O.
 */
import { TLS_STATES, type LoggedTlsState } from './event.ts';

export interface SeriesBucket { start: number; counts: Record<LoggedTlsState, number> }
export interface Series { bucketMs: number; buckets: SeriesBucket[] }

function emptyCounts(): number[] {
  return TLS_STATES.map(() => 0);
}

export class TimeSeries {
  private widthMs: number;
  private buckets = new Map<number, number[]>();

  constructor(private readonly maxBuckets = 1024, baseWidthMs = 60_000) {
    this.widthMs = baseWidthMs;
  }

  add(time: number, state: LoggedTlsState): void {
    const key = Math.floor(time / this.widthMs);
    let counts = this.buckets.get(key);
    if (!counts) {
      if (this.buckets.size >= this.maxBuckets) {
        this.coarsen();
        this.add(time, state);
        return;
      }
      counts = emptyCounts();
      this.buckets.set(key, counts);
    }
    const i = TLS_STATES.indexOf(state);
    counts[i] = (counts[i] ?? 0) + 1;
  }

  /** Double the width until the buckets fit in half the budget. */
  private coarsen(): void {
    do {
      this.widthMs *= 2;
      const merged = new Map<number, number[]>();
      for (const [key, counts] of this.buckets) {
        const k = Math.floor(key / 2);
        const into = merged.get(k) ?? emptyCounts();
        counts.forEach((c, i) => { into[i] = (into[i] ?? 0) + c; });
        merged.set(k, into);
      }
      this.buckets = merged;
    } while (this.buckets.size > this.maxBuckets / 2);
  }

  /** Buckets in time order, each at most `maxOut` (re-bucketed for display when there are more). */
  snapshot(maxOut = 120): Series {
    let width = this.widthMs;
    let entries = [...this.buckets.entries()].map(([k, c]) => [k * this.widthMs, c] as const);
    if (entries.length > 0) {
      const first = Math.min(...entries.map((e) => e[0]));
      const last = Math.max(...entries.map((e) => e[0]));
      while ((last - first) / width + 1 > maxOut) width *= 2;
      const merged = new Map<number, number[]>();
      for (const [start, counts] of entries) {
        const k = Math.floor(start / width) * width;
        const into = merged.get(k) ?? emptyCounts();
        counts.forEach((c, i) => { into[i] = (into[i] ?? 0) + c; });
        merged.set(k, into);
      }
      entries = [...merged.entries()].sort((a, b) => a[0] - b[0]);
    }
    const buckets = entries.map(([start, counts]) => ({
      start,
      counts: Object.fromEntries(TLS_STATES.map((s, i) => [s, counts[i] ?? 0])) as Record<LoggedTlsState, number>,
    }));
    return { bucketMs: width, buckets };
  }
}
