/**
 * The one aggregate of connection events: counts, kinds, durations, first/last timestamps and
 * the log-scale latency histogram. Live stats, minute rollups, batch deltas and the Redis stats
 * hash are all this shape (its wire form is in `persistence/codec.ts`), so an update is written
 * once ({@link addEvent}) and so is a merge ({@link mergeAggregate}).
 */
import { bucketIndex, estimatePercentiles, type SparseHistogram } from './histogram.js';

/** Aggregated events. Durations in ms, times in epoch ms. */
export interface Aggregate {
  events: number;
  errors: number;
  /** Count per kind. */
  kinds: Record<string, number>;
  /** Sum of durations, over events that have one. */
  durSum: number;
  /** Number of events with a duration. */
  durCount: number;
  /** Smallest duration (null while durCount = 0). */
  durMin: number | null;
  /** Largest duration (null while durCount = 0). */
  durMax: number | null;
  /** Timestamp of the oldest event (null while events = 0). */
  firstAt: number | null;
  /** Timestamp of the newest event (null while events = 0). */
  lastAt: number | null;
  /** Latency histogram: bucket index → count (sparse). */
  hist: SparseHistogram;
}

/** An aggregate of the events in one time bucket starting at `t` (a minute rollup, for one). */
export interface Rollup extends Aggregate {
  /** Bucket start, epoch ms. */
  t: number;
}

/**
 * An empty aggregate. Every aggregate is built here with the same fields in the same order (a
 * plain aggregate is a rollup of bucket 0), so {@link addEvent} — on the `recordEvent` path for
 * live stats and minute rollups alike — always sees one object shape.
 */
export function emptyAggregate(): Aggregate {
  return emptyRollup(0);
}

/** An empty rollup of the bucket starting at `t`. */
export function emptyRollup(t: number): Rollup {
  return {
    t,
    events: 0,
    errors: 0,
    kinds: {},
    durSum: 0,
    durCount: 0,
    durMin: null,
    durMax: null,
    firstAt: null,
    lastAt: null,
    hist: {},
  };
}

/**
 * The count of `kind` in `kinds`, 0 when absent. A kind is any word of the name pattern, so it
 * can be `constructor`, which every plain object inherits (a function): only a number counts.
 */
function kindCount(kinds: Record<string, number>, kind: string): number {
  const n = kinds[kind];
  return typeof n === 'number' ? n : 0;
}

/**
 * Adds one event. `bucket` is `bucketIndex(durationMs)`, passed in so the caller computes it once
 * for every aggregate the event goes into.
 */
export function addEvent(
  a: Aggregate,
  kind: string,
  timestamp: number,
  isError: boolean,
  durationMs: number | undefined,
  bucket: number = durationMs === undefined ? -1 : bucketIndex(durationMs),
): void {
  a.events++;
  if (isError) a.errors++;
  a.kinds[kind] = kindCount(a.kinds, kind) + 1;
  if (durationMs !== undefined) {
    a.durSum += durationMs;
    a.durCount++;
    if (a.durMin === null || durationMs < a.durMin) a.durMin = durationMs;
    if (a.durMax === null || durationMs > a.durMax) a.durMax = durationMs;
    a.hist[bucket] = (a.hist[bucket] ?? 0) + 1;
  }
  if (a.firstAt === null || timestamp < a.firstAt) a.firstAt = timestamp;
  if (a.lastAt === null || timestamp > a.lastAt) a.lastAt = timestamp;
}

/** Adds aggregate `src` into `dst`. */
export function mergeAggregate(dst: Aggregate, src: Aggregate): void {
  dst.events += src.events;
  dst.errors += src.errors;
  for (const k in src.kinds) dst.kinds[k] = kindCount(dst.kinds, k) + kindCount(src.kinds, k);
  dst.durSum += src.durSum;
  dst.durCount += src.durCount;
  dst.durMin = lesser(dst.durMin, src.durMin);
  dst.durMax = greater(dst.durMax, src.durMax);
  dst.firstAt = lesser(dst.firstAt, src.firstAt);
  dst.lastAt = greater(dst.lastAt, src.lastAt);
  for (const b in src.hist) {
    const c = src.hist[b as unknown as number] ?? 0;
    if (c !== 0) dst.hist[b as unknown as number] = (dst.hist[b as unknown as number] ?? 0) + c;
  }
}

/** A copy that shares nothing with `a` (the histogram made sparse). */
export function copyAggregate<A extends Aggregate>(a: A): A {
  const copy: A = { ...a, kinds: { ...a.kinds }, hist: {} };
  for (const b in a.hist) {
    const c = a.hist[b as unknown as number] ?? 0;
    if (c !== 0) copy.hist[b as unknown as number] = c;
  }
  return copy;
}

/** What every reader derives from an aggregate: rates, mean and percentile estimates. */
export interface AggregateSummary {
  /** errors / events; null when there are no events. */
  errorRate: number | null;
  avgDurationMs: number | null;
  /** Histogram estimates, within ±4.4 % of the exact nearest-rank percentile. */
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  p99DurationMs: number | null;
  minDurationMs: number | null;
  maxDurationMs: number | null;
}

/** Derives rates, mean and p50/p95/p99 (one pass over the histogram). */
export function summarize(a: Aggregate): AggregateSummary {
  const [p50, p95, p99] = estimatePercentiles(
    a.hist,
    a.durCount,
    a.durMin ?? 0,
    a.durMax ?? 0,
    [0.5, 0.95, 0.99],
  );
  return {
    errorRate: a.events === 0 ? null : a.errors / a.events,
    avgDurationMs: a.durCount === 0 ? null : a.durSum / a.durCount,
    p50DurationMs: p50 ?? null,
    p95DurationMs: p95 ?? null,
    p99DurationMs: p99 ?? null,
    minDurationMs: a.durCount === 0 ? null : a.durMin,
    maxDurationMs: a.durCount === 0 ? null : a.durMax,
  };
}

function lesser(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null || a <= b ? a : b;
}

function greater(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null || a >= b ? a : b;
}
