/**
 * The fixed log-scale latency histogram shared by live stats, in-memory rollups and the Redis
 * rollups. Bucket 0 holds durations below {@link HISTOGRAM_MIN_MS}; bucket i ≥ 1 holds
 * [MIN·2^((i-1)/8), MIN·2^(i/8)); the last bucket also takes everything above.
 *
 * Percentiles are estimated at the geometric middle of the bucket holding the rank, clamped to the
 * observed min and max, so an estimate is within {@link HISTOGRAM_RELATIVE_ERROR} (4.4 %) of the
 * exact nearest-rank percentile, or within 0.01 ms for sub-0.01 ms values.
 */
export const HISTOGRAM_MIN_MS = 0.01;
/** Buckets per doubling. */
export const HISTOGRAM_BUCKETS_PER_DOUBLING = 8;
/** Number of buckets: covers 0.01 ms … ~1.1 h before the overflow bucket. */
export const HISTOGRAM_BUCKETS = 232;
/** Worst-case relative error of a percentile estimate: 2^(1/16) − 1. */
export const HISTOGRAM_RELATIVE_ERROR = 2 ** (1 / (2 * HISTOGRAM_BUCKETS_PER_DOUBLING)) - 1;

/** The bucket a duration falls in. */
export function bucketIndex(durationMs: number): number {
  if (durationMs < HISTOGRAM_MIN_MS) return 0;
  const i =
    1 + Math.floor(Math.log2(durationMs / HISTOGRAM_MIN_MS) * HISTOGRAM_BUCKETS_PER_DOUBLING);
  return i >= HISTOGRAM_BUCKETS ? HISTOGRAM_BUCKETS - 1 : i;
}

/** Lower bound of bucket `i` in ms. */
export function bucketLowerMs(i: number): number {
  return i === 0 ? 0 : HISTOGRAM_MIN_MS * 2 ** ((i - 1) / HISTOGRAM_BUCKETS_PER_DOUBLING);
}

/** Upper bound of bucket `i` in ms (the last bucket is open-ended). */
export function bucketUpperMs(i: number): number {
  return i >= HISTOGRAM_BUCKETS - 1
    ? Number.POSITIVE_INFINITY
    : HISTOGRAM_MIN_MS * 2 ** (i / HISTOGRAM_BUCKETS_PER_DOUBLING);
}

/** Sparse histogram: bucket index → count. */
export type SparseHistogram = Record<number, number>;

/**
 * Estimates percentiles `ps` (0 < p ≤ 1) from bucket counts, nearest-rank, clamped to [min, max].
 * `counts` is anything indexable by bucket (dense array or sparse record). Returns null for each p
 * when the histogram is empty.
 */
export function estimatePercentiles(
  counts: ArrayLike<number> | SparseHistogram,
  total: number,
  minMs: number,
  maxMs: number,
  ps: readonly number[],
): (number | null)[] {
  const out: (number | null)[] = ps.map(() => null);
  if (total <= 0) return out;
  // Visit the ranks in ascending order whatever the order of `ps`.
  const order = ps.map((_, k) => k).sort((a, b) => (ps[a] as number) - (ps[b] as number));
  const ranks = order.map((k) => Math.max(1, Math.ceil((ps[k] as number) * total)));
  let next = 0;
  let seen = 0;
  // Returns true once every rank is placed.
  const visit = (i: number, c: number): boolean => {
    seen += c;
    if (seen < (ranks[next] as number)) return false;
    const estimate = clamp(BUCKET_ESTIMATES[i] as number, minMs, maxMs);
    while (next < ranks.length && seen >= (ranks[next] as number)) {
      out[order[next] as number] = estimate;
      next++;
    }
    return next >= ranks.length;
  };
  if (Array.isArray(counts) || ArrayBuffer.isView(counts)) {
    const dense = counts as ArrayLike<number>;
    for (let i = 0; i < dense.length; i++) {
      const c = dense[i] ?? 0;
      if (c > 0 && visit(i, c)) break;
    }
  } else {
    // Integer-like keys enumerate in ascending numeric order (ECMAScript OrdinaryOwnPropertyKeys);
    // for-in allocates no key array.
    const sparse = counts as SparseHistogram;
    for (const key in sparse) {
      const c = sparse[key as unknown as number] ?? 0;
      if (c > 0 && visit(Number(key), c)) break;
    }
  }
  return out.map((v) => v ?? maxMs);
}

/** The estimate of each bucket: its geometric middle (computed once). */
const BUCKET_ESTIMATES: readonly number[] = Array.from({ length: HISTOGRAM_BUCKETS }, (_, i) => {
  if (i === 0) return HISTOGRAM_MIN_MS / 2;
  const lo = bucketLowerMs(i);
  const hi = bucketUpperMs(i);
  return Number.isFinite(hi) ? Math.sqrt(lo * hi) : lo;
});

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
