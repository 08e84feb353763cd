import { addEvent, copyAggregate, emptyRollup, mergeAggregate, type Rollup } from './aggregate.js';
import { minuteOf, MINUTE_MS } from './time-series.js';

/**
 * Per-minute rollups of one type kept in memory for `retentionMs`; answers time-series queries
 * when Redis is off or unavailable.
 */
export class RollupStore {
  private readonly minutes = new Map<number, Rollup>();
  private current: Rollup | undefined;
  private newestMinute = Number.NEGATIVE_INFINITY;
  /** Recovered rollups not parsed yet (see {@link addLater}). */
  private pending: (() => Rollup[])[] = [];

  constructor(private readonly retentionMs: number) {}

  /** Adds one event to its minute; `bucket` is `bucketIndex(durationMs)` (or -1 without one). */
  add(
    timestamp: number,
    kind: string,
    isError: boolean,
    durationMs: number | undefined,
    bucket: number,
  ): void {
    let r = this.current;
    if (r === undefined || timestamp < r.t || timestamp >= r.t + MINUTE_MS) {
      const t = minuteOf(timestamp);
      r = this.minutes.get(t);
      if (r === undefined) {
        r = emptyRollup(t);
        this.minutes.set(t, r);
        if (t > this.newestMinute) {
          this.newestMinute = t;
          this.trim();
        }
      }
      this.current = r;
    }
    addEvent(r, kind, timestamp, isError, durationMs, bucket);
  }

  /** Merges a whole minute rollup (recovered from Redis) into memory. */
  addRollup(r: Rollup): void {
    const existing = this.minutes.get(r.t);
    if (existing === undefined) {
      this.minutes.set(r.t, copyAggregate(r));
      if (r.t > this.newestMinute) {
        this.newestMinute = r.t;
        this.trim();
      }
    } else {
      mergeAggregate(existing, r);
    }
  }

  /** Merges rollups produced by `load` the first time they are needed (recovery stays cheap). */
  addLater(load: () => Rollup[]): void {
    this.pending.push(load);
  }

  /** Rollups whose minute starts in [from, to], in ascending order. */
  range(from: number, to: number): Rollup[] {
    if (this.pending.length > 0) {
      const loads = this.pending;
      this.pending = [];
      for (const load of loads) for (const r of load()) this.addRollup(r);
    }
    const out: Rollup[] = [];
    for (const r of this.minutes.values()) if (r.t >= minuteOf(from) && r.t <= to) out.push(r);
    return out.sort((a, b) => a.t - b.t);
  }

  private trim(): void {
    const oldest = this.newestMinute - this.retentionMs - MINUTE_MS;
    for (const t of this.minutes.keys()) if (t < oldest) this.minutes.delete(t);
  }
}
