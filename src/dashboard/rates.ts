/** Shortest elapsed part of the current bucket worth extrapolating, ms. */
const MIN_PARTIAL_MS = 20_000;

/**
 * Multiplier turning a bucket's count into a rate per `unitMs` (per minute by default). The newest
 * bucket is still filling (it ends after `to`), so its count is divided by the time elapsed in it
 * rather than by the bucket length — otherwise every chart would dive towards zero at its right
 * edge. Returns null (a gap) when less than 20 s of the bucket has elapsed: too little to
 * extrapolate.
 */
export function rateFactor(t: number, bucketMs: number, to: number, unitMs: number): number | null {
  const elapsedMs = Math.min(bucketMs, to - t);
  if (elapsedMs >= bucketMs) return unitMs / bucketMs;
  return elapsedMs >= MIN_PARTIAL_MS ? unitMs / elapsedMs : null;
}

/** {@link rateFactor} per minute. */
export function perMinuteFactor(t: number, bucketMs: number, to: number): number | null {
  return rateFactor(t, bucketMs, to, 60_000);
}
