import type { ConnectionEvent } from './event.js';
import { MonitorError, describeValue } from './errors.js';
import { assertName, INSTANCE_ID_PATTERN, INSTANCE_ID_RULE, isErrorEvent } from './event.js';
import { BUCKET_SIZES_MS, type TimeSeriesPoint } from './time-series.js';

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
  /** 60000, 300000, 900000 or 3600000 (or '1m', '5m', '15m', '1h'); default 60000. */
  bucketMs?: number | string | undefined;
  /** One instance's events only (its id); the whole fleet when omitted. */
  instance?: string | undefined;
}

/** A time series answer. */
export interface TimeSeriesResult {
  bucketMs: number;
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
  /** Longest `from`…`to` span after clipping to retention, ms (error names `from`). */
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
  clipped: boolean;
}

function bad(field: string, value: unknown, allowed: string): MonitorError {
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
    throw bad(field, value, 'must be epoch milliseconds or an ISO-8601 date');
  }
  return Math.floor(ms);
}

/** Parses a bucket: ms number or '1m' | '5m' | '15m' | '1h'. */
export function parseBucket(value: unknown): number {
  if (value === undefined || value === null || value === '') return 60_000;
  const named: Record<string, number> = {
    '1m': 60_000,
    '5m': 300_000,
    '15m': 900_000,
    '1h': 3_600_000,
  };
  const ms =
    typeof value === 'string'
      ? (named[value] ?? (/^\d+$/.test(value) ? Number(value) : NaN))
      : value;
  if (typeof ms !== 'number' || !(BUCKET_SIZES_MS as readonly number[]).includes(ms)) {
    throw bad('bucket', value, 'must be 60000, 300000, 900000 or 3600000 ms (or 1m, 5m, 15m, 1h)');
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
  if (m === null) throw bad('before', value, 'must be a nextBefore cursor from a previous page');
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
  if (from > to) throw bad('from', fromIn, `must not be after to (${to})`);
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
    throw bad('instance', instance, `must be an instance id: ${INSTANCE_ID_RULE}`);
  }
}

function checkSpan(from: number, to: number, limits: QueryLimits): void {
  if (limits.maxRangeMs !== undefined && to - from > limits.maxRangeMs) {
    throw bad(
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
  if (typeof q !== 'object' || q === null) throw bad('query', q, 'must be an object');
  assertName(q.type, 'type', 'CM_ERR_INVALID_QUERY');
  const { from, to, clipped } = range(q.from, q.to, now, retentionMs, retentionMs);
  checkSpan(from, to, limits);
  let limit = DEFAULT_HISTORY_LIMIT;
  if (q.limit !== undefined) {
    const n = typeof q.limit === 'string' && /^\d+$/.test(q.limit) ? Number(q.limit) : q.limit;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_HISTORY_LIMIT) {
      throw bad('limit', q.limit, `must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`);
    }
    limit = n;
  }
  if (q.kind !== undefined) assertName(q.kind, 'kind', 'CM_ERR_INVALID_QUERY');
  if (q.errorsOnly !== undefined && typeof q.errorsOnly !== 'boolean') {
    throw bad('errorsOnly', q.errorsOnly, 'must be true or false');
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
 * parameter (the `limits` included).
 */
export function normalizeSeriesQuery(
  q: TimeSeriesQuery,
  now: number,
  retentionMs: number,
  limits: QueryLimits = {},
): NormalizedSeriesQuery {
  if (typeof q !== 'object' || q === null) throw bad('query', q, 'must be an object');
  if (q.type !== undefined) assertName(q.type, 'type', 'CM_ERR_INVALID_QUERY');
  const bucketMs = parseBucket(q.bucketMs);
  const { from, to, clipped } = range(q.from, q.to, now, retentionMs, DEFAULT_SERIES_RANGE_MS);
  checkSpan(from, to, limits);
  const points = Math.floor(to / bucketMs) - Math.floor(from / bucketMs) + 1;
  if (limits.maxPoints !== undefined && points > limits.maxPoints) {
    throw bad(
      'bucket',
      q.bucketMs,
      `${bucketMs} ms over ${to - from} ms gives ${points} points: at most ${limits.maxPoints}; use a larger bucket or a shorter range`,
    );
  }
  checkInstance(q.instance);
  return { type: q.type, instance: q.instance, from, to, bucketMs, clipped };
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
