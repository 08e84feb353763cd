import type { ConnectionEvent } from '../core/event.js';
import { isErrorEvent } from '../core/event.js';
import { bucketIndex } from '../core/histogram.js';
import type { StatsTotals } from '../core/live-stats.js';
import { addToRollup, emptyRollup, minuteOf, type MinuteRollup } from '../core/rollup.js';

/**
 * Compact JSON of a rollup as stored in Redis (one hash field per minute):
 * `{ t, e: events, x: errors, k: {kind: n}, ds: duration sum, dc: duration count, dmin, dmax,
 *    h: {bucket: n} }`. `dmin`/`dmax` are absent while `dc` is 0.
 */
export interface StoredRollup {
  t: number;
  e: number;
  x: number;
  k: Record<string, number>;
  ds: number;
  dc: number;
  dmin?: number;
  dmax?: number;
  h: Record<string, number>;
}

/** A rollup in the stored shape. */
export function encodeRollup(r: MinuteRollup): StoredRollup {
  const out: StoredRollup = {
    t: r.t,
    e: r.events,
    x: r.errors,
    k: r.kinds,
    ds: r.durSum,
    dc: r.durCount,
    h: r.hist,
  };
  if (r.durMin !== null) out.dmin = r.durMin;
  if (r.durMax !== null) out.dmax = r.durMax;
  return out;
}

/** Parses a stored rollup; throws on malformed JSON. */
export function decodeRollup(json: string): MinuteRollup {
  const s = JSON.parse(json) as StoredRollup;
  // Keys like "17" are array indices to JavaScript: the parsed object already is a
  // Record<number, number>; copying it would only cost time.
  const hist = (Array.isArray(s.h) ? {} : s.h) as unknown as Record<number, number>;
  return {
    t: s.t,
    events: s.e,
    errors: s.x,
    // cjson writes an empty table as {} — fine — but guard against arrays anyway.
    kinds: Array.isArray(s.k) ? {} : s.k,
    durSum: s.ds,
    durCount: s.dc,
    durMin: s.dc > 0 && s.dmin !== undefined ? s.dmin : null,
    durMax: s.dc > 0 && s.dmax !== undefined ? s.dmax : null,
    hist,
  };
}

/** The stats delta of a batch, in the shape the write script reads. */
export interface StatsDelta {
  e: number;
  x: number;
  k: Record<string, number>;
  ds: number;
  dc: number;
  dmin?: number;
  dmax?: number;
  f: number;
  l: number;
  h: Record<string, number>;
}

/** Everything one type's batch sends to the write script. */
export interface EncodedBatch {
  readonly type: string;
  readonly batchId: string;
  readonly count: number;
  /** (score, member) pairs, flattened. */
  readonly pairs: (string | number)[];
  readonly statsJson: string;
  readonly rollupsJson: string;
}

/** Serialises one type's events and pre-aggregates their stats and per-minute rollups. */
export function encodeBatch(
  type: string,
  batchId: string,
  events: readonly ConnectionEvent[],
): EncodedBatch {
  const pairs: (string | number)[] = new Array<string | number>(events.length * 2);
  const stats: StatsDelta = {
    e: 0,
    x: 0,
    k: {},
    ds: 0,
    dc: 0,
    f: Number.POSITIVE_INFINITY,
    l: 0,
    h: {},
  };
  const minutes = new Map<number, MinuteRollup>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as ConnectionEvent;
    pairs[2 * i] = e.timestamp;
    pairs[2 * i + 1] = serializeEvent(e);
    const isError = isErrorEvent(e.kind, e.error);
    const d = e.durationMs;
    const bucket = d === undefined ? -1 : bucketIndex(d);
    stats.e++;
    if (isError) stats.x++;
    stats.k[e.kind] = (stats.k[e.kind] ?? 0) + 1;
    if (d !== undefined) {
      stats.ds += d;
      stats.dc++;
      if (stats.dmin === undefined || d < stats.dmin) stats.dmin = d;
      if (stats.dmax === undefined || d > stats.dmax) stats.dmax = d;
      stats.h[bucket] = (stats.h[bucket] ?? 0) + 1;
    }
    if (e.timestamp < stats.f) stats.f = e.timestamp;
    if (e.timestamp > stats.l) stats.l = e.timestamp;
    const t = minuteOf(e.timestamp);
    let r = minutes.get(t);
    if (r === undefined) {
      r = emptyRollup(t);
      minutes.set(t, r);
    }
    addToRollup(r, e.kind, isError, d, bucket);
  }
  return {
    type,
    batchId,
    count: events.length,
    pairs,
    statsJson: JSON.stringify(stats),
    rollupsJson: JSON.stringify([...minutes.values()].map(encodeRollup)),
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

/** Reads a stats hash (HGETALL as a flat list or object) into totals; null when empty. */
export function decodeStats(flat: readonly string[] | Record<string, string>): StatsTotals | null {
  const h: Record<string, string> = Array.isArray(flat)
    ? {}
    : { ...(flat as Record<string, string>) };
  if (Array.isArray(flat))
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  if (h.events === undefined) return null;
  const num = (v: string | undefined): number | null => (v === undefined ? null : Number(v));
  const kinds: Record<string, number> = {};
  const hist: Record<number, number> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('k:')) kinds[k.slice(2)] = Number(v);
  if (h.hist !== undefined) {
    const stored = JSON.parse(h.hist) as Record<string, number>;
    for (const b in stored) hist[Number(b)] = stored[b] ?? 0;
  }
  return {
    events: Number(h.events),
    errors: num(h.errors) ?? 0,
    kinds,
    durSum: num(h.dur_sum) ?? 0,
    durCount: num(h.dur_count) ?? 0,
    durMin: num(h.dur_min),
    durMax: num(h.dur_max),
    firstAt: num(h.first_at),
    lastAt: num(h.last_at),
    hist,
  };
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
