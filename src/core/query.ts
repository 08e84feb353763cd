import type { ConnectionEvent } from './event.js';
import { MonitorError, describeValue } from './errors.js';
import { assertName, INSTANCE_ID_PATTERN, INSTANCE_ID_RULE, isErrorEvent } from './event.js';
import {
  BUCKET_NAMES,
  BUCKET_SIZES_MS,
  resolutionFor,
  type Resolution,
  type ResolutionRetention,
  type TimeSeriesPoint,
} from './time-series.js';

/** Most events one history page returns. */
export const MAX_HISTORY_LIMIT = 1000;
/** Page size when `limit` is not given. */
export const DEFAULT_HISTORY_LIMIT = 100;
/** Time-series range when `from` is not given: the last hour. */
export const DEFAULT_SERIES_RANGE_MS = 3_600_000;

/** Parameters of `getHistoricalData`. Times are epoch ms (or ISO-8601 strings / Dates). */
export interface HistoryQuery {
  type: string;
  from?: number | string | Date | undefined;
  to?: number | string | Date | undefined;
  /** Page size, 1…{@link MAX_HISTORY_LIMIT}; default {@link DEFAULT_HISTORY_LIMIT}. */
  limit?: number | undefined;
  /** Cursor from a previous page's `nextBefore`. */
  before?: string | null | undefined;
  kind?: string | undefined;
  errorsOnly?: boolean | undefined;
  /** One instance's events only (its id); every instance's when omitted. */
  instance?: string | undefined;
}

/** A page of history, newest first. */
export interface HistoryPage {
  events: ConnectionEvent[];
  /** Cursor for the next (older) page; null at the end. */
  nextBefore: string | null;
  source: 'redis' | 'memory';
  /** The effective range after clipping to retention. */
  from: number;
  to: number;
  /** True when the asked range was longer than retention and was clipped. */
  clipped: boolean;
}

/** Parameters of `getTimeSeriesData`. */
export interface TimeSeriesQuery {
  /** One type, or all types merged when omitted. */
  type?: string | undefined;
  from?: number | string | Date | undefined;
  to?: number | string | Date | undefined;
  /**
   * 60000, 300000, 900000, 3600000, 21600000 or 86400000 ms (or '1m', '5m', '15m', '1h', '6h',
   * '1d'); default 60000. Sets the resolution read, and so how far back the range can go.
   */
  bucketMs?: number | string | undefined;
  /** One instance's events only (its id); the whole fleet when omitted. */
  instance?: string | undefined;
}

/** A time series answer. */
export interface TimeSeriesResult {
  bucketMs: number;
  /** The stored resolution the points were built from (the coarsest that answers exactly). */
  resolution: Resolution;
  from: number;
  to: number;
  points: TimeSeriesPoint[];
  /** Where the points come from; `mixed`: some types from Redis, others (their shard down) from memory. */
  source: 'redis' | 'memory' | 'mixed';
  clipped: boolean;
}

/**
 * Limits a caller (the service) puts on queries on top of the monitor's own rules. A query over
 * them is refused with `CM_ERR_INVALID_QUERY` naming the parameter to change.
 */
export interface QueryLimits {
  /**
   * Longest `from`…`to` span of a history query after clipping to retention, ms (error names
   * `from`). Time series are bounded by the retention of the resolution they read instead.
   */
  readonly maxRangeMs?: number;
  /** Most points of a time series (error names `bucket`). */
  readonly maxPoints?: number;
}

/** A history cursor: strictly older than (timestamp, id) in newest-first order. */
export interface Cursor {
  timestamp: number;
  id: string;
}

/** A normalised history query. */
export interface NormalizedHistoryQuery {
  type: string;
  from: number;
  to: number;
  limit: number;
  before: Cursor | null;
  kind: string | undefined;
  errorsOnly: boolean;
  instance: string | undefined;
  clipped: boolean;
}

/** A normalised time-series query. */
export interface NormalizedSeriesQuery {
  type: string | undefined;
  instance: string | undefined;
  from: number;
  to: number;
  bucketMs: number;
  resolution: Resolution;
  clipped: boolean;
}

/** A `CM_ERR_INVALID_QUERY` error naming the parameter, its value and what is allowed. */
export function invalidQuery(field: string, value: unknown, allowed: string): MonitorError {
  return new MonitorError(
    'CM_ERR_INVALID_QUERY',
    `invalid query: ${field} ${describeValue(value)} — ${allowed}`,
    { field, value },
  );
}

/** Parses epoch ms, a numeric string, an ISO-8601 string or a Date. */
export function parseTime(field: string, value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) ms = Number(value);
  else if (typeof value === 'string') ms = Date.parse(value);
  else ms = Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw invalidQuery(field, value, 'must be epoch milliseconds or an ISO-8601 date');
  }
  return Math.floor(ms);
}

/** Parses a bucket: ms (number or digits) or one of the names of {@link BUCKET_NAMES}. */
export function parseBucket(value: unknown): number {
  if (value === undefined || value === null || value === '') return 60_000;
  const ms =
    typeof value === 'string'
      ? (BUCKET_NAMES[value] ?? (/^\d+$/.test(value) ? Number(value) : NaN))
      : value;
  if (typeof ms !== 'number' || !(BUCKET_SIZES_MS as readonly number[]).includes(ms)) {
    throw invalidQuery(
      'bucket',
      value,
      `must be ${BUCKET_SIZES_MS.join(', ')} ms (or ${Object.keys(BUCKET_NAMES).join(', ')})`,
    );
  }
  return ms;
}

/** Encodes a cursor as `<timestamp>:<id>`. */
export function encodeCursor(c: Cursor): string {
  return `${c.timestamp}:${c.id}`;
}

/** Decodes a cursor made by {@link encodeCursor}. */
export function decodeCursor(value: unknown): Cursor | null {
  if (value === undefined || value === null || value === '') return null;
  const m = typeof value === 'string' ? /^(\d{1,16}):([A-Za-z0-9._:-]{1,200})$/.exec(value) : null;
  if (m === null)
    throw invalidQuery('before', value, 'must be a nextBefore cursor from a previous page');
  return { timestamp: Number(m[1]), id: m[2] as string };
}

function range(
  fromIn: unknown,
  toIn: unknown,
  now: number,
  retentionMs: number,
  defaultSpan: number,
): { from: number; to: number; clipped: boolean } {
  const to = parseTime('to', toIn) ?? now;
  let from = parseTime('from', fromIn) ?? Math.max(0, to - defaultSpan);
  if (from > to) throw invalidQuery('from', fromIn, `must not be after to (${to})`);
  const oldest = now - retentionMs;
  let clipped = false;
  if (from < oldest) {
    from = Math.min(oldest, to);
    clipped = fromIn !== undefined && fromIn !== null && fromIn !== '';
  }
  return { from, to, clipped };
}

function checkInstance(instance: unknown): void {
  if (
    instance !== undefined &&
    (typeof instance !== 'string' || !INSTANCE_ID_PATTERN.test(instance))
  ) {
    throw invalidQuery('instance', instance, `must be an instance id: ${INSTANCE_ID_RULE}`);
  }
}

function checkSpan(from: number, to: number, limits: QueryLimits): void {
  if (limits.maxRangeMs !== undefined && to - from > limits.maxRangeMs) {
    throw invalidQuery(
      'from',
      from,
      `from…to spans ${to - from} ms: at most ${limits.maxRangeMs} ms per query`,
    );
  }
}

/**
 * Validates and normalises a history query, once; throws `CM_ERR_INVALID_QUERY` naming the
 * parameter (the `limits` included).
 */
export function normalizeHistoryQuery(
  q: HistoryQuery,
  now: number,
  retentionMs: number,
  limits: QueryLimits = {},
): NormalizedHistoryQuery {
  if (typeof q !== 'object' || q === null) throw invalidQuery('query', q, 'must be an object');
  assertName(q.type, 'type', 'CM_ERR_INVALID_QUERY');
  const { from, to, clipped } = range(q.from, q.to, now, retentionMs, retentionMs);
  checkSpan(from, to, limits);
  let limit = DEFAULT_HISTORY_LIMIT;
  if (q.limit !== undefined) {
    const n = typeof q.limit === 'string' && /^\d+$/.test(q.limit) ? Number(q.limit) : q.limit;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_HISTORY_LIMIT) {
      throw invalidQuery('limit', q.limit, `must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`);
    }
    limit = n;
  }
  if (q.kind !== undefined) assertName(q.kind, 'kind', 'CM_ERR_INVALID_QUERY');
  if (q.errorsOnly !== undefined && typeof q.errorsOnly !== 'boolean') {
    throw invalidQuery('errorsOnly', q.errorsOnly, 'must be true or false');
  }
  checkInstance(q.instance);
  return {
    type: q.type,
    from,
    to,
    limit,
    before: decodeCursor(q.before),
    kind: q.kind,
    errorsOnly: q.errorsOnly === true,
    instance: q.instance,
    clipped,
  };
}

/**
 * Validates and normalises a time-series query, once; throws `CM_ERR_INVALID_QUERY` naming the
 * parameter (the `limits` included). The bucket picks the resolution read (see
 * {@link resolutionFor}); the range is clipped to that resolution's retention.
 */
export function normalizeSeriesQuery(
  q: TimeSeriesQuery,
  now: number,
  retention: ResolutionRetention,
  limits: QueryLimits = {},
): NormalizedSeriesQuery {
  if (typeof q !== 'object' || q === null) throw invalidQuery('query', q, 'must be an object');
  if (q.type !== undefined) assertName(q.type, 'type', 'CM_ERR_INVALID_QUERY');
  checkInstance(q.instance);
  const bucketMs = parseBucket(q.bucketMs);
  const resolution = resolutionFor(bucketMs, q.instance !== undefined);
  const { from, to, clipped } = range(
    q.from,
    q.to,
    now,
    retention[resolution],
    DEFAULT_SERIES_RANGE_MS,
  );
  const points = Math.floor(to / bucketMs) - Math.floor(from / bucketMs) + 1;
  if (limits.maxPoints !== undefined && points > limits.maxPoints) {
    throw invalidQuery(
      'bucket',
      q.bucketMs,
      `${bucketMs} ms over ${to - from} ms gives ${points} points: at most ${limits.maxPoints}; use a larger bucket or a shorter range`,
    );
  }
  return { type: q.type, instance: q.instance, from, to, bucketMs, resolution, clipped };
}

/**
 * Newest-first order of history, the same as Redis's reverse sorted-set order: by timestamp, then
 * by member bytes (the member JSON starts with `{"id":"<id>"`, so by `<id>"`).
 */
export function compareNewestFirst(
  a: { timestamp: number; id: string },
  b: { timestamp: number; id: string },
): number {
  if (a.timestamp !== b.timestamp) return b.timestamp - a.timestamp;
  const ka = `${a.id}"`;
  const kb = `${b.id}"`;
  return ka < kb ? 1 : ka > kb ? -1 : 0;
}

/** True when event `e` matches the query's filters (range, kind, errors, cursor). */
export function matchesHistory(e: ConnectionEvent, q: NormalizedHistoryQuery): boolean {
  if (e.timestamp < q.from || e.timestamp > q.to) return false;
  if (q.kind !== undefined && e.kind !== q.kind) return false;
  if (q.instance !== undefined && e.instance !== q.instance) return false;
  if (q.errorsOnly && !isErrorEvent(e.kind, e.error)) return false;
  if (q.before !== null && compareNewestFirst(e, q.before) <= 0) return false;
  return true;
}

/** Answers a history query from in-memory events (any order). */
export function historyFromEvents(
  events: Iterable<ConnectionEvent>,
  q: NormalizedHistoryQuery,
): Pick<HistoryPage, 'events' | 'nextBefore'> {
  const hits: ConnectionEvent[] = [];
  for (const e of events) if (matchesHistory(e, q)) hits.push(e);
  hits.sort(compareNewestFirst);
  const page = hits.slice(0, q.limit);
  const last = page[page.length - 1];
  const nextBefore = hits.length > q.limit && last !== undefined ? encodeCursor(last) : null;
  return { events: page, nextBefore };
}
