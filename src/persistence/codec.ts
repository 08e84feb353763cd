/**
 * Wire forms: the one JSON form of an aggregate (rollup fields and batch deltas), the stats hash
 * fields, and stored events. The write script's field names are generated from the maps below,
 * and both maps are checked against {@link Aggregate} by the compiler, so adding a field to the
 * aggregate cannot leave one of them behind.
 */
import {
  addEvent,
  emptyAggregate,
  emptyRollup,
  type Aggregate,
  type Rollup,
} from '../core/aggregate.js';
import type { ConnectionEvent } from '../core/event.js';
import { isErrorEvent } from '../core/event.js';
import { HISTOGRAM_BUCKETS, bucketIndex } from '../core/histogram.js';
import { minuteOf } from '../core/time-series.js';

/** Short JSON keys of an aggregate (rollup hash fields, batch deltas). */
export const WIRE_KEYS = {
  events: 'e',
  errors: 'x',
  kinds: 'k',
  durSum: 'ds',
  durCount: 'dc',
  durMin: 'dmin',
  durMax: 'dmax',
  firstAt: 'f',
  lastAt: 'l',
  hist: 'h',
} as const satisfies Record<keyof Aggregate, string>;

/**
 * Fields of the `<type>:stats` hash (the seed's names): one field per total, `k:<kind>` per kind,
 * the histogram as one JSON field.
 */
export const STATS_FIELDS = {
  events: 'events',
  errors: 'errors',
  kinds: 'k:',
  durSum: 'dur_sum',
  durCount: 'dur_count',
  durMin: 'dur_min',
  durMax: 'dur_max',
  firstAt: 'first_at',
  lastAt: 'last_at',
  hist: 'hist',
} as const satisfies Record<keyof Aggregate, string>;

/**
 * The wire form of an aggregate: `{ t?, e, x, k: {kind: n}, ds, dc, dmin?, dmax?, f?, l?,
 * h: {bucket: n} }`. Optional fields are absent while unknown (no duration, no event).
 */
export type WireAggregate = {
  t?: number;
  e: number;
  x: number;
  k: Record<string, number>;
  ds: number;
  dc: number;
  dmin?: number;
  dmax?: number;
  f?: number;
  l?: number;
  h: Record<string, number>;
};

/**
 * The wire form of an aggregate, or of a rollup (`isRollup`): with its `t` and without first/last
 * (a rollup's bucket says when; nothing reads the times inside it).
 */
export function encodeAggregate(a: Aggregate | Rollup, isRollup = false): WireAggregate {
  const hist: Record<string, number> = {};
  for (const b in a.hist) {
    const c = a.hist[b as unknown as number] ?? 0;
    if (c !== 0) hist[b] = c;
  }
  const out: WireAggregate = {
    e: a.events,
    x: a.errors,
    k: a.kinds,
    ds: a.durSum,
    dc: a.durCount,
    h: hist,
  };
  if (a.durMin !== null) out.dmin = a.durMin;
  if (a.durMax !== null) out.dmax = a.durMax;
  if (isRollup) {
    out.t = (a as Rollup).t;
    return out;
  }
  if (a.firstAt !== null) out.f = a.firstAt;
  if (a.lastAt !== null) out.l = a.lastAt;
  return out;
}

/** Reads the wire form back (cjson writes an empty table as `{}` or `[]`: both read as empty). */
export function decodeAggregate(w: WireAggregate): Aggregate {
  return {
    events: w.e,
    errors: w.x,
    kinds: Array.isArray(w.k) ? {} : w.k,
    durSum: w.ds,
    durCount: w.dc,
    durMin: w.dc > 0 && w.dmin !== undefined ? w.dmin : null,
    durMax: w.dc > 0 && w.dmax !== undefined ? w.dmax : null,
    firstAt: w.f ?? null,
    lastAt: w.l ?? null,
    // Keys like "17" are array indices to JavaScript: the parsed object already is a
    // Record<number, number>; copying it would only cost time.
    hist: (Array.isArray(w.h) ? {} : w.h) as unknown as Record<number, number>,
  };
}

/** Parses a stored rollup (a hash field of `<type>:rollups`); throws on malformed JSON. */
export function decodeRollup(json: string): Rollup {
  const w = JSON.parse(json) as WireAggregate & { t: number };
  return { t: w.t, ...decodeAggregate(w) };
}

/**
 * Reads a stats hash (HGETALL as a flat list or object) into an aggregate; null when empty.
 * Throws naming the field when a value is not a number or the histogram does not parse.
 */
export function decodeStats(flat: readonly string[] | Record<string, string>): Aggregate | null {
  const h: Record<string, string> = Array.isArray(flat)
    ? {}
    : { ...(flat as Record<string, string>) };
  if (Array.isArray(flat))
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  const F = STATS_FIELDS;
  if (h[F.events] === undefined) return null;
  const num = (field: string): number | null => {
    const v = h[field];
    if (v === undefined) return null;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`field ${field} is not a number`);
    return n;
  };
  const a = emptyAggregate();
  for (const k of Object.keys(h))
    if (k.startsWith(F.kinds)) a.kinds[k.slice(F.kinds.length)] = num(k) ?? 0;
  const histJson = h[F.hist];
  if (histJson !== undefined) {
    const stored = JSON.parse(histJson) as unknown;
    if (typeof stored !== 'object' || stored === null)
      throw new Error(`field ${F.hist} is not a histogram`);
    for (const [b, c] of Object.entries(stored)) {
      const i = Number(b);
      if (typeof c !== 'number' || !Number.isFinite(c) || !isBucket(i)) {
        throw new Error(`field ${F.hist} is not a histogram`);
      }
      a.hist[i] = c;
    }
  }
  a.events = num(F.events) ?? 0;
  a.errors = num(F.errors) ?? 0;
  a.durSum = num(F.durSum) ?? 0;
  a.durCount = num(F.durCount) ?? 0;
  a.durMin = num(F.durMin);
  a.durMax = num(F.durMax);
  a.firstAt = num(F.firstAt);
  a.lastAt = num(F.lastAt);
  return a;
}

function isBucket(i: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < HISTOGRAM_BUCKETS;
}

/** Everything one type's batch sends to the write script. */
export interface EncodedBatch {
  readonly type: string;
  readonly batchId: string;
  readonly count: number;
  /** (score, member) pairs, flattened. */
  readonly pairs: (string | number)[];
  /** The batch's aggregate, wire form. */
  readonly statsJson: string;
  /**
   * The batch's minute rollups, wire form (array); or, when every event falls in one minute (the
   * usual case), just that minute's start: its rollup is then the batch's aggregate, sent once.
   */
  readonly rollupsJson: string;
  /** Timestamps of the batch's first and last error events, when it has any. */
  readonly firstErrorAt?: number;
  readonly lastErrorAt?: number;
}

/** Serialises one type's events and pre-aggregates their totals and per-minute rollups. */
export function encodeBatch(
  type: string,
  batchId: string,
  events: readonly ConnectionEvent[],
): EncodedBatch {
  const pairs: (string | number)[] = new Array<string | number>(events.length * 2);
  const totals = emptyAggregate();
  const minutes = new Map<number, Rollup>();
  let firstErrorAt = Infinity;
  let lastErrorAt = -Infinity;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as ConnectionEvent;
    pairs[2 * i] = e.timestamp;
    pairs[2 * i + 1] = serializeEvent(e);
    const isError = isErrorEvent(e.kind, e.error);
    const d = e.durationMs;
    const bucket = d === undefined ? -1 : bucketIndex(d);
    addEvent(totals, e.kind, e.timestamp, isError, d, bucket);
    if (isError) {
      if (e.timestamp < firstErrorAt) firstErrorAt = e.timestamp;
      if (e.timestamp > lastErrorAt) lastErrorAt = e.timestamp;
    }
    const t = minuteOf(e.timestamp);
    let r = minutes.get(t);
    if (r === undefined) {
      r = emptyRollup(t);
      minutes.set(t, r);
    }
    addEvent(r, e.kind, e.timestamp, isError, d, bucket);
  }
  const errors = totals.errors > 0 ? { firstErrorAt, lastErrorAt } : {};
  return {
    type,
    batchId,
    count: events.length,
    ...errors,
    pairs,
    statsJson: JSON.stringify(encodeAggregate(totals)),
    rollupsJson:
      minutes.size === 1
        ? String(minutes.keys().next().value)
        : JSON.stringify([...minutes.values()].map((r) => encodeAggregate(r, true))),
  };
}

/**
 * The stored JSON of an event: the same text as `JSON.stringify(event)` (id first, so members of
 * equal score sort by id), built directly because id, type, kind and instance are validated names
 * that need no escaping; only error and metadata go through `JSON.stringify`.
 */
export function serializeEvent(e: ConnectionEvent): string {
  let s = `{"id":"${e.id}","type":"${e.type}","kind":"${e.kind}","timestamp":${e.timestamp}`;
  if (e.durationMs !== undefined) s += `,"durationMs":${e.durationMs}`;
  if (e.error !== undefined) s += `,"error":${JSON.stringify(e.error)}`;
  if (e.metadata !== undefined) s += `,"metadata":${JSON.stringify(e.metadata)}`;
  return `${s},"instance":"${e.instance}"}`;
}

/** The id of a stored event member (`{"id":"<id>",…`), without parsing the whole JSON. */
export function memberId(member: string): string | null {
  const m = /^\{"id":"([^"]+)"/.exec(member);
  return m === null ? null : (m[1] as string);
}

/** The timestamp of a stored event member, read without parsing the whole JSON. */
export function memberTimestamp(member: string): number | null {
  const at = member.indexOf('"timestamp":');
  if (at < 0) return null;
  const t = Number.parseInt(member.slice(at + 12, at + 12 + 20), 10);
  return Number.isFinite(t) ? t : null;
}
