/**
 * The events each fleet producer records, known in advance so the test can check exact counts
 * and the exact merged p95. Deterministic per producer index; no randomness.
 *
 * Each producer's latencies sit on their own scale (producer 3 is ~27× slower than producer 0),
 * so the mean of the per-instance p95s is far from the p95 of all durations merged: a fleet
 * figure built by averaging percentiles fails the 10 % check.
 */

/** Connection types every producer records. */
export const FLEET_TYPES = ['kimi', 'glm'] as const;

/** One planned event. */
export interface PlannedEvent {
  type: string;
  kind: string;
  durationMs: number;
  /** Set on some `response` events: they count as errors too. */
  error?: string;
}

/** The events producer `index` (0…3) records, in order. */
export function plannedEvents(index: number): PlannedEvent[] {
  const out: PlannedEvent[] = [];
  FLEET_TYPES.forEach((type, ti) => {
    const count = 60 + 23 * index + 31 * ti;
    const scale = (index + 1) ** 2.4;
    for (let n = 0; n < count; n++) {
      // A fixed permutation of [0, 1): durations 2 ms … 128 ms, times the producer's scale.
      const u = ((n * 7_919 + index * 104_729 + ti * 31) % 10_007) / 10_007;
      const durationMs = Math.round(2 * 2 ** (u * 6) * scale * 100) / 100;
      if (n % (4 + index) === 0) out.push({ type, kind: 'error', durationMs });
      else if (n % 11 === 5) out.push({ type, kind: 'response', durationMs, error: 'HTTP 503' });
      else out.push({ type, kind: 'response', durationMs });
    }
  });
  return out;
}

/** Exact `[events, errors]` of `events` per type, types sorted. */
export function countsByType(events: readonly PlannedEvent[]): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const e of [...events].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))) {
    const c = (out[e.type] ??= [0, 0]);
    c[0]++;
    if (e.kind === 'error' || e.error !== undefined) c[1]++;
  }
  return out;
}

/** The exact nearest-rank percentile `p` (0 < p ≤ 1) of `values`. */
export function exactPercentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
}
