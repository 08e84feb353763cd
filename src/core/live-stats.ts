import { addEvent, emptyAggregate, summarize, type Aggregate } from './aggregate.js';
import { HISTOGRAM_BUCKETS } from './histogram.js';

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

/** `TypeStats` of an aggregate (this process's, or the fleet's totals from Redis). */
export function statsOf(type: string, t: Aggregate, eventsPerSecond: number): TypeStats {
  const s = summarize(t);
  return {
    type,
    events: t.events,
    errors: t.errors,
    errorRate: s.errorRate ?? 0,
    kinds: { ...t.kinds },
    avgDurationMs: s.avgDurationMs,
    p50DurationMs: s.p50DurationMs,
    p95DurationMs: s.p95DurationMs,
    p99DurationMs: s.p99DurationMs,
    maxDurationMs: s.maxDurationMs,
    firstEventAt: t.events > 0 ? t.firstAt : null,
    lastEventAt: t.events > 0 ? t.lastAt : null,
    eventsPerSecond,
  };
}

/**
 * Running stats of one type: an {@link Aggregate} (with a dense histogram: one per type, updated
 * on every event) plus a 60-second rate window. `add` is O(1) and allocation-free for known kinds.
 */
export class LiveStats {
  private readonly totals: Aggregate = emptyAggregate();
  private readonly rateSecond = new Float64Array(RATE_WINDOW_S).fill(-1);
  private readonly rateCount = new Float64Array(RATE_WINDOW_S);
  private distinctKinds = 0;
  /** Time of the newest error added (the monitor's first-error-after-quiet watch), or null. */
  lastErrorAt: number | null = null;

  /** True while no event was added. */
  get isEmpty(): boolean {
    return this.totals.events === 0;
  }

  /** Distinct kinds counted so far. */
  get kindCount(): number {
    return this.distinctKinds;
  }

  /**
   * True when `kind` was counted before; otherwise counts it as a new distinct kind (the caller,
   * {@link TypeRegistry.admitKind}, admits it before the event is added).
   */
  isKnownKind(kind: string): boolean {
    // Not `!== undefined`: every plain object inherits `constructor`, a valid kind name.
    return typeof this.totals.kinds[kind] === 'number';
  }

  /** Notes that a new kind is about to be added (see {@link isKnownKind}). */
  noteNewKind(): void {
    this.distinctKinds++;
  }

  /** Adds one event; `bucket` is `bucketIndex(durationMs)` (ignored without a duration). */
  add(
    kind: string,
    timestamp: number,
    isError: boolean,
    durationMs: number | undefined,
    bucket: number,
  ): void {
    addEvent(this.totals, kind, timestamp, isError, durationMs, bucket);
    this.addToRate(timestamp);
  }

  /** Counts an event toward the current rate. */
  private addToRate(timestamp: number): void {
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
    const counts = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
    for (const b in this.totals.hist) counts[Number(b)] = this.totals.hist[Number(b)] ?? 0;
    return {
      counts,
      sumMs: this.totals.durSum,
      count: this.totals.durCount,
    };
  }

  /** A snapshot for `getStats`. */
  snapshot(type: string, nowMs: number): TypeStats {
    const nowSecond = Math.floor(nowMs / 1000);
    let recent = 0;
    for (let i = 0; i < RATE_WINDOW_S; i++) {
      const sec = this.rateSecond[i] ?? -1;
      if (sec > nowSecond - RATE_WINDOW_S && sec <= nowSecond) recent += this.rateCount[i] ?? 0;
    }
    return statsOf(type, this.totals, recent / RATE_WINDOW_S);
  }
}
