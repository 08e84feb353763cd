import { addEvent, copyAggregate, emptyRollup, mergeAggregate, type Rollup } from './aggregate.js';
import { minuteOf, MINUTE_MS } from './time-series.js';

/**
 * Per-minute rollups of one type kept in memory for `retentionMs`; answers time-series queries
 * when Redis is off or unavailable. Trimmed by the clock, not by arrival: a minute older than
 * `now − retentionMs` is dropped when a new minute starts and on every read, so neither an old nor
 * a far-future timestamp can keep entries alive or wipe the others. Bound: the minutes of the
 * accepted window (retention + clock skew), at most `retentionMs / 60 s + skew / 60 s + 2`.
 */
export class RollupStore {
  private readonly minutes = new Map<number, Rollup>();
  private current: Rollup | undefined;
  /** Recovered rollups not parsed yet (see {@link addLater}). */
  private pending: (() => Rollup[])[] = [];

  constructor(private readonly retentionMs: number) {}

  /** Number of minutes held (after the last trim). */
  get size(): number {
    return this.minutes.size;
  }

  /**
   * Adds one event to its minute; `bucket` is `bucketIndex(durationMs)` (or -1 without one); `now`
   * is the clock, for trimming.
   */
  add(
    timestamp: number,
    kind: string,
    isError: boolean,
    durationMs: number | undefined,
    bucket: number,
    now: number,
  ): void {
    let r = this.current;
    if (r === undefined || timestamp < r.t || timestamp >= r.t + MINUTE_MS) {
      const t = minuteOf(timestamp);
      r = this.minutes.get(t);
      if (r === undefined) {
        this.trim(now);
        r = emptyRollup(t);
        this.minutes.set(t, r);
      }
      this.current = r;
    }
    addEvent(r, kind, timestamp, isError, durationMs, bucket);
  }

  /** Merges a whole minute rollup (recovered from Redis) into memory. */
  addRollup(r: Rollup): void {
    const existing = this.minutes.get(r.t);
    if (existing === undefined) this.minutes.set(r.t, copyAggregate(r));
    else mergeAggregate(existing, r);
  }

  /** Merges rollups produced by `load` the first time they are needed (recovery stays cheap). */
  addLater(load: () => Rollup[]): void {
    this.pending.push(load);
  }

  /** Rollups whose minute starts in [from, to], in ascending order; trims first. */
  range(from: number, to: number, now: number): Rollup[] {
    if (this.pending.length > 0) {
      const loads = this.pending;
      this.pending = [];
      for (const load of loads) for (const r of load()) this.addRollup(r);
    }
    this.trim(now);
    const out: Rollup[] = [];
    for (const r of this.minutes.values()) if (r.t >= minuteOf(from) && r.t <= to) out.push(r);
    return out.sort((a, b) => a.t - b.t);
  }

  /** Drops every minute that ended before `now − retentionMs`. */
  trim(now: number): void {
    const oldest = minuteOf(now - this.retentionMs);
    for (const t of this.minutes.keys()) {
      if (t < oldest) {
        this.minutes.delete(t);
        if (this.current?.t === t) this.current = undefined;
      }
    }
  }
}
