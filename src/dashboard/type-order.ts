/**
 * Which types come first when there are many: the worst (highest error rate, then highest p95
 * latency). The compact type table sorts by it and the charts draw the first few. No DOM: it runs
 * in Node tests too.
 */
import type { StatsMap, TypeStats } from './types.js';

/** Worst first: higher error rate, then higher p95 (unknown p95 last), then by name. */
export function compareWorstFirst(a: TypeStats, b: TypeStats): number {
  return (
    b.errorRate - a.errorRate ||
    (b.p95DurationMs ?? -1) - (a.p95DurationMs ?? -1) ||
    (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)
  );
}

/** Most types drawn as lines on the charts (and as gauges and error bars). */
export const MAX_DRAWN_TYPES = 8;

/**
 * The types the charts draw: every type up to {@link MAX_DRAWN_TYPES}, past that the worst
 * first by `stats` (types without stats last, by name).
 */
export function drawnTypes(types: ReadonlySet<string>, stats: StatsMap): string[] {
  const all = [...types].sort();
  if (all.length <= MAX_DRAWN_TYPES) return all;
  const known = all.filter((t) => stats[t] !== undefined).map((t) => stats[t] as TypeStats);
  known.sort(compareWorstFirst);
  const rest = all.filter((t) => stats[t] === undefined);
  return [...known.map((s) => s.type), ...rest].slice(0, MAX_DRAWN_TYPES).sort();
}
