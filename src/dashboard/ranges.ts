/**
 * The chart ranges: how far back, which bucket, and what the panels say about it. Up to 24 h the
 * minute rollups answer; 7 and 30 days read the hour rollups and 90 days the day rollups (one
 * instance keeps no days: its 90 days are built from hours, as far as those are kept).
 */

/** One range choice. */
export interface RangeSpec {
  /** Span back from now, ms. */
  spanMs: number;
  /** `bucket` of `/api/timeseries`. */
  bucket: string;
  /** Shown in the panel notes. */
  label: string;
  /** The charts' rate unit: events per minute up to a day, per hour beyond (readable numbers). */
  rate: RateUnit;
}

/** A rate unit of the events and errors charts. */
export interface RateUnit {
  /** Length, ms. */
  ms: number;
  /** `min` or `h`, as in "Events / min". */
  label: string;
}

const PER_MINUTE: RateUnit = { ms: 60_000, label: 'min' };
const PER_HOUR: RateUnit = { ms: 3_600_000, label: 'h' };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Every range, in the order of the selector. */
export const RANGES: Readonly<Record<string, RangeSpec>> = {
  '15m': {
    spanMs: 15 * 60_000,
    bucket: '1m',
    label: 'last 15 min · 1 min buckets',
    rate: PER_MINUTE,
  },
  '1h': { spanMs: HOUR, bucket: '1m', label: 'last 1 h · 1 min buckets', rate: PER_MINUTE },
  '6h': { spanMs: 6 * HOUR, bucket: '1m', label: 'last 6 h · 1 min buckets', rate: PER_MINUTE },
  '24h': { spanMs: DAY, bucket: '5m', label: 'last 24 h · 5 min buckets', rate: PER_MINUTE },
  '7d': { spanMs: 7 * DAY, bucket: '1h', label: 'last 7 days · 1 h buckets', rate: PER_HOUR },
  '30d': { spanMs: 30 * DAY, bucket: '6h', label: 'last 30 days · 6 h buckets', rate: PER_HOUR },
  '90d': { spanMs: 90 * DAY, bucket: '1d', label: 'last 90 days · 1 day buckets', rate: PER_HOUR },
};

/** The range shown when nothing else is asked for. */
export const DEFAULT_RANGE = '1h';

/** The spec of `key`, or of the default range for an unknown key. */
export function rangeSpec(key: string): RangeSpec {
  return RANGES[key] ?? (RANGES[DEFAULT_RANGE] as RangeSpec);
}
