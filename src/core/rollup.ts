import { bucketIndex, type SparseHistogram } from './histogram.js';

/** One minute of one type, aggregated. The same shape is stored in Redis (see docs/redis-schema.md). */
export interface MinuteRollup {
  /** Minute start, Unix epoch ms (multiple of 60,000). */
  t: number;
  events: number;
  errors: number;
  /** Count per kind. */
  kinds: Record<string, number>;
  /** Sum of durations in ms, over events that have one. */
  durSum: number;
  /** Number of events with a duration. */
  durCount: number;
  /** Smallest duration in ms (null when durCount = 0). */
  durMin: number | null;
  /** Largest duration in ms (null when durCount = 0). */
  durMax: number | null;
  /** Log-scale latency histogram (sparse). */
  hist: SparseHistogram;
}

/** One minute, in ms. */
export const MINUTE_MS = 60_000;

/** Start of the minute containing `timestamp`. */
export function minuteOf(timestamp: number): number {
  return Math.floor(timestamp / MINUTE_MS) * MINUTE_MS;
}

/** An empty rollup for minute `t`. */
export function emptyRollup(t: number): MinuteRollup {
  return {
    t,
    events: 0,
    errors: 0,
    kinds: {},
    durSum: 0,
    durCount: 0,
    durMin: null,
    durMax: null,
    hist: {},
  };
}

/**
 * Adds one event to a rollup. `bucket` is `bucketIndex(durationMs)`, passed in so the caller
 * computes it once for stats and rollups alike.
 */
export function addToRollup(
  r: MinuteRollup,
  kind: string,
  isError: boolean,
  durationMs: number | undefined,
  bucket: number = durationMs === undefined ? -1 : bucketIndex(durationMs),
): void {
  r.events++;
  if (isError) r.errors++;
  r.kinds[kind] = (r.kinds[kind] ?? 0) + 1;
  if (durationMs !== undefined) {
    r.durSum += durationMs;
    r.durCount++;
    if (r.durMin === null || durationMs < r.durMin) r.durMin = durationMs;
    if (r.durMax === null || durationMs > r.durMax) r.durMax = durationMs;
    r.hist[bucket] = (r.hist[bucket] ?? 0) + 1;
  }
}

/** Adds rollup `src` into `dst` (same or wider bucket). */
export function mergeRollup(dst: MinuteRollup, src: MinuteRollup): void {
  dst.events += src.events;
  dst.errors += src.errors;
  for (const k in src.kinds) dst.kinds[k] = (dst.kinds[k] ?? 0) + (src.kinds[k] ?? 0);
  dst.durSum += src.durSum;
  dst.durCount += src.durCount;
  if (src.durMin !== null && (dst.durMin === null || src.durMin < dst.durMin))
    dst.durMin = src.durMin;
  if (src.durMax !== null && (dst.durMax === null || src.durMax > dst.durMax))
    dst.durMax = src.durMax;
  for (const b in src.hist) {
    const i = Number(b);
    dst.hist[i] = (dst.hist[i] ?? 0) + (src.hist[i] ?? 0);
  }
}
