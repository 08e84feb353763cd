import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HISTOGRAM_BUCKETS,
  HISTOGRAM_RELATIVE_ERROR,
  bucketIndex,
  bucketLowerMs,
  bucketUpperMs,
  estimatePercentiles,
} from '../../src/core/histogram.js';

function exact(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] as number;
}

describe('log-scale histogram', () => {
  it('places durations inside their bucket bounds', () => {
    for (const d of [0, 0.005, 0.01, 0.5, 1, 3.7, 100, 1234.5, 60_000, 3_600_000]) {
      const i = bucketIndex(d);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(HISTOGRAM_BUCKETS);
      expect(d).toBeGreaterThanOrEqual(bucketLowerMs(i) * (1 - 1e-12));
      expect(d).toBeLessThan(bucketUpperMs(i) * (1 + 1e-12));
    }
    expect(bucketIndex(1e12)).toBe(HISTOGRAM_BUCKETS - 1);
  });

  it('estimates percentiles within the documented bound', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 3_000_000, noNaN: true }), {
          minLength: 1,
          maxLength: 400,
        }),
        (values) => {
          const sorted = [...values].sort((a, b) => a - b);
          const counts: Record<number, number> = {};
          for (const v of values) counts[bucketIndex(v)] = (counts[bucketIndex(v)] ?? 0) + 1;
          const ps = [0.5, 0.95, 0.99];
          const est = estimatePercentiles(
            counts,
            values.length,
            sorted[0] as number,
            sorted.at(-1) as number,
            ps,
          );
          ps.forEach((p, k) => {
            const truth = exact(sorted, p);
            const e = est[k] as number;
            expect(Math.abs(e - truth)).toBeLessThanOrEqual(
              truth * HISTOGRAM_RELATIVE_ERROR * 1.000001,
            );
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('returns null for an empty histogram', () => {
    expect(estimatePercentiles({}, 0, 0, 0, [0.5])).toEqual([null]);
  });
});
