import {
  copyAggregate,
  emptyRollup,
  mergeAggregate,
  summarize,
  type AggregateSummary,
  type Rollup,
} from './aggregate.js';

/** One minute, in ms. */
export const MINUTE_MS = 60_000;

/** Start of the minute containing `timestamp`. */
export function minuteOf(timestamp: number): number {
  return Math.floor(timestamp / MINUTE_MS) * MINUTE_MS;
}

/** Accepted bucket sizes: 1 min, 5 min, 15 min, 1 h. */
export const BUCKET_SIZES_MS = [60_000, 300_000, 900_000, 3_600_000] as const;
/** One accepted bucket size. */
export type BucketMs = (typeof BUCKET_SIZES_MS)[number];

/** One time-series point. Empty buckets have zero counts and null rates and latencies. */
export interface TimeSeriesPoint extends AggregateSummary {
  /** Bucket start, Unix epoch ms (a multiple of bucketMs since the epoch, UTC). */
  t: number;
  events: number;
  errors: number;
  /** Count per kind. */
  kinds: Record<string, number>;
}

/** Start of the bucket containing `t`. */
export function bucketStart(t: number, bucketMs: number): number {
  return t - (((t % bucketMs) + bucketMs) % bucketMs);
}

/**
 * Folds minute rollups (any number of types) into consecutive buckets covering [from, to]. Every
 * bucket in the range is present, empty ones included.
 */
export function buildPoints(
  rollups: Iterable<Rollup>,
  from: number,
  to: number,
  bucketMs: number,
): TimeSeriesPoint[] {
  const first = bucketStart(from, bucketMs);
  const last = bucketStart(to, bucketMs);
  const count = Math.floor((last - first) / bucketMs) + 1;
  // Per bucket: the single rollup that falls in it (the usual case at 1-minute buckets, used as
  // is), or a merged copy once a second one arrives.
  const acc = new Array<Rollup | undefined>(count);
  const owned = new Uint8Array(count);
  const minFrom = minuteOf(from);
  for (const r of rollups) {
    if (r.t < minFrom || r.t > to) continue;
    const i = Math.floor((r.t - first) / bucketMs);
    if (i < 0 || i >= count) continue;
    const slot = acc[i];
    if (slot === undefined) {
      acc[i] = r;
    } else {
      let target = slot;
      if (owned[i] === 0) {
        target = { ...copyAggregate(slot), t: first + i * bucketMs };
        acc[i] = target;
        owned[i] = 1;
      }
      mergeAggregate(target, r);
    }
  }
  const points = new Array<TimeSeriesPoint>(count);
  for (let i = 0; i < count; i++) {
    const t = first + i * bucketMs;
    const r = acc[i];
    points[i] = toPoint(r ?? emptyRollup(t), t);
  }
  return points;
}

/** Turns an aggregate into a point starting at `t` (default: the aggregate's own start). */
export function toPoint(r: Rollup, t: number = r.t): TimeSeriesPoint {
  return { t, events: r.events, errors: r.errors, kinds: { ...r.kinds }, ...summarize(r) };
}
