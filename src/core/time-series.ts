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

/** One hour and one day, in ms. */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Accepted bucket sizes: 1 min, 5 min, 15 min, 1 h, 6 h, 1 day. */
export const BUCKET_SIZES_MS = [60_000, 300_000, 900_000, HOUR_MS, 6 * HOUR_MS, DAY_MS] as const;
/** One accepted bucket size. */
export type BucketMs = (typeof BUCKET_SIZES_MS)[number];
/** Names of the bucket sizes, as `/api/timeseries` accepts them. */
export const BUCKET_NAMES: Readonly<Record<string, BucketMs>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': HOUR_MS,
  '6h': 6 * HOUR_MS,
  '1d': DAY_MS,
};

/**
 * Resolutions of stored rollups: minutes (kept for the retention), hours and days (kept longer).
 * Instances keep minutes and hours; the fleet also days.
 */
export type Resolution = 'minute' | 'hour' | 'day';
/** Bucket size of each resolution, ms. */
export const RESOLUTION_MS: Readonly<Record<Resolution, number>> = {
  minute: MINUTE_MS,
  hour: HOUR_MS,
  day: DAY_MS,
};
/** How long each resolution is kept, ms. */
export type ResolutionRetention = Readonly<Record<Resolution, number>>;

/**
 * The coarsest resolution that answers buckets of `bucketMs` exactly (buckets are whole multiples
 * of it): days for `1d` (hours for one instance, which keeps no days), hours for `1h` and `6h`,
 * minutes otherwise.
 */
export function resolutionFor(bucketMs: number, isInstance: boolean): Resolution {
  if (bucketMs % DAY_MS === 0 && !isInstance) return 'day';
  if (bucketMs % HOUR_MS === 0) return 'hour';
  return 'minute';
}

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
