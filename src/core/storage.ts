/**
 * What the store holds: bytes per type now (Redis `MEMORY USAGE` of its keys) and a projection
 * of its rollups at full retention (bytes per stored rollup × buckets kept per resolution).
 */
import type { Resolution } from './time-series.js';

/** One resolution of one type's rollups. */
export interface ResolutionStorage {
  /** Buckets kept at full retention (one series). */
  buckets: number;
  /** Projected bytes of those buckets, from the measured bytes per rollup. */
  bytes: number;
}

/** One type's storage. */
export interface TypeStorage {
  type: string;
  /** `MEMORY USAGE` of each of the type's keys now, bytes. */
  bytesNow: {
    events: number;
    stats: number;
    /** The fleet's rollups (every resolution). */
    series: number;
    /** Every instance's own rollups together. */
    instanceSeries: number;
    batches: number;
    total: number;
  };
  /** Rollups stored now in the fleet's series (every resolution). */
  rollups: number;
  /** Measured: the fleet series' bytes divided by its rollups; null before the first. */
  bytesPerRollup: number | null;
  /**
   * The fleet's series at full retention of every resolution it keeps, per resolution (null
   * before the first rollup is measured).
   */
  atFullRetention: Record<Resolution, ResolutionStorage> | null;
}

/** The store's memory estimate. */
export interface StorageEstimate {
  /** When it was measured (epoch ms); it is cached for a minute. */
  measuredAt: number;
  types: TypeStorage[];
  /** Sum of every type's `bytesNow.total`. */
  totalBytesNow: number;
  /** Types not measured (beyond the most measured at once). */
  omittedTypes: number;
}
