import { HISTOGRAM_BUCKETS, estimatePercentiles } from './histogram.js';

/** Running totals of one type; the same fields are kept in the Redis stats hash. */
export interface StatsTotals {
  events: number;
  errors: number;
  kinds: Record<string, number>;
  durSum: number;
  durCount: number;
  durMin: number | null;
  durMax: number | null;
  firstAt: number | null;
  lastAt: number | null;
  /** Sparse log-scale latency histogram (see histogram.ts). */
  hist: Record<number, number>;
}

/** Live stats of one connection type, as returned by `getStats`. */
export interface TypeStats {
  type: string;
  /** Events recorded in total (including recovered history). */
  events: number;
  /** Error events in total. */
  errors: number;
  /** errors / events, 0 when there are no events. */
  errorRate: number;
  /** Count per kind. */
  kinds: Record<string, number>;
  /** Mean duration of events that carry one, ms; null when none do. */
  avgDurationMs: number | null;
  /** Estimated median duration, ms (histogram, ±4.4 %). */
  p50DurationMs: number | null;
  /** Estimated 95th percentile duration, ms (histogram, ±4.4 %). */
  p95DurationMs: number | null;
  /** Estimated 99th percentile duration, ms (histogram, ±4.4 %). */
  p99DurationMs: number | null;
  /** Largest duration, ms; null when none. */
  maxDurationMs: number | null;
  /** Timestamp of the first event, epoch ms. */
  firstEventAt: number | null;
  /** Timestamp of the newest event, epoch ms. */
  lastEventAt: number | null;
  /** Events per second over the last 60 s (by event timestamp). */
  eventsPerSecond: number;
}

const RATE_WINDOW_S = 60;

/** Running stats of one type. `add` is O(1) and allocation-free for known kinds. */
export class LiveStats {
  private events = 0;
  private errors = 0;
  private readonly kinds = new Map<string, number>();
  private durSum = 0;
  private durCount = 0;
  private durMin = Number.POSITIVE_INFINITY;
  private durMax = Number.NEGATIVE_INFINITY;
  private firstAt = Number.POSITIVE_INFINITY;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly hist = new Float64Array(HISTOGRAM_BUCKETS);
  private readonly rateSecond = new Float64Array(RATE_WINDOW_S).fill(-1);
  private readonly rateCount = new Float64Array(RATE_WINDOW_S);

  /** Adds one event; `bucket` is `bucketIndex(durationMs)` (ignored without a duration). */
  add(
    kind: string,
    timestamp: number,
    isError: boolean,
    durationMs: number | undefined,
    bucket: number,
  ): void {
    this.events++;
    if (isError) this.errors++;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (durationMs !== undefined) {
      this.durSum += durationMs;
      this.durCount++;
      if (durationMs > this.durMax) this.durMax = durationMs;
      if (durationMs < this.durMin) this.durMin = durationMs;
      this.hist[bucket] = (this.hist[bucket] ?? 0) + 1;
    }
    if (timestamp < this.firstAt) this.firstAt = timestamp;
    if (timestamp > this.lastAt) this.lastAt = timestamp;
    const second = Math.floor(timestamp / 1000);
    const slot = second % RATE_WINDOW_S;
    if (this.rateSecond[slot] !== second) {
      this.rateSecond[slot] = second;
      this.rateCount[slot] = 0;
    }
    this.rateCount[slot] = (this.rateCount[slot] ?? 0) + 1;
  }

  /** Adds recovered totals (from Redis) to these stats. */
  addTotals(t: StatsTotals): void {
    this.events += t.events;
    this.errors += t.errors;
    for (const k in t.kinds) this.kinds.set(k, (this.kinds.get(k) ?? 0) + (t.kinds[k] ?? 0));
    this.durSum += t.durSum;
    this.durCount += t.durCount;
    if (t.durMax !== null && t.durMax > this.durMax) this.durMax = t.durMax;
    if (t.durMin !== null && t.durMin < this.durMin) this.durMin = t.durMin;
    if (t.firstAt !== null && t.firstAt < this.firstAt) this.firstAt = t.firstAt;
    if (t.lastAt !== null && t.lastAt > this.lastAt) this.lastAt = t.lastAt;
    for (const b in t.hist) {
      const i = Number(b);
      if (i >= 0 && i < HISTOGRAM_BUCKETS) this.hist[i] = (this.hist[i] ?? 0) + (t.hist[i] ?? 0);
    }
  }

  /** Counts recovered events toward the current rate (their totals come from `addTotals`). */
  addToRate(timestamp: number): void {
    const second = Math.floor(timestamp / 1000);
    const slot = second % RATE_WINDOW_S;
    if (this.rateSecond[slot] !== second) {
      this.rateSecond[slot] = second;
      this.rateCount[slot] = 0;
    }
    this.rateCount[slot] = (this.rateCount[slot] ?? 0) + 1;
  }

  /** Counts per log-scale bucket (dense copy), with the sum and count of durations. */
  latencyHistogram(): { counts: number[]; sumMs: number; count: number } {
    return { counts: Array.from(this.hist), sumMs: this.durSum, count: this.durCount };
  }

  /** A snapshot for `getStats`. */
  snapshot(type: string, nowMs: number): TypeStats {
    const hasDur = this.durCount > 0;
    const [p50, p95, p99] = estimatePercentiles(
      this.hist,
      this.durCount,
      hasDur ? this.durMin : 0,
      hasDur ? this.durMax : 0,
      [0.5, 0.95, 0.99],
    );
    const nowSecond = Math.floor(nowMs / 1000);
    let recent = 0;
    for (let i = 0; i < RATE_WINDOW_S; i++) {
      const s = this.rateSecond[i] ?? -1;
      if (s > nowSecond - RATE_WINDOW_S && s <= nowSecond) recent += this.rateCount[i] ?? 0;
    }
    return {
      type,
      events: this.events,
      errors: this.errors,
      errorRate: this.events === 0 ? 0 : this.errors / this.events,
      kinds: Object.fromEntries(this.kinds),
      avgDurationMs: hasDur ? this.durSum / this.durCount : null,
      p50DurationMs: p50 ?? null,
      p95DurationMs: p95 ?? null,
      p99DurationMs: p99 ?? null,
      maxDurationMs: hasDur ? this.durMax : null,
      firstEventAt: this.events > 0 && Number.isFinite(this.firstAt) ? this.firstAt : null,
      lastEventAt: this.events > 0 && Number.isFinite(this.lastAt) ? this.lastAt : null,
      eventsPerSecond: recent / RATE_WINDOW_S,
    };
  }
}
