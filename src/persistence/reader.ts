import type { Rollup } from '../core/aggregate.js';
import type { ConnectionEvent } from '../core/event.js';
import { NAME_PATTERN } from '../core/event.js';
import type { RecoveredType } from '../core/persistence.js';
import { encodeCursor, type HistoryPage, type NormalizedHistoryQuery } from '../core/query.js';
import {
  bucketStart,
  MINUTE_MS,
  minuteOf,
  RESOLUTION_MS,
  type Resolution,
} from '../core/time-series.js';
import type { MonitorRedis } from './client.js';
import { decodeRollup, memberId, memberTimestamp } from './codec.js';
import { classifyFailure, type Failure } from './failures.js';
import { PENDING_FIELD, seriesField, type KeySpace } from './keys.js';

/** How far past the reader's clock recovery reads minute rollups, ms (producers' clock skew). */
const RECOVERY_AHEAD_MS = 10 * MINUTE_MS;

/** Reads of hours or days at most, when a pending minute vanished between two reads. */
const COARSE_READ_ATTEMPTS = 3;

/** Most members one history call scans when filters skip events (bounds the script's run time). */
export const HISTORY_SCAN_CAP = 20_000;

/** Something wrong with one type's stored data, found while reading it. */
export interface ReadProblem {
  readonly type: string;
  readonly key?: string;
  readonly reason: string;
  readonly count: number;
}

/** One type's recovery: its history, or a connection-level failure to retry later. */
export type TypeRecovery =
  | { readonly ok: true; readonly recovered: RecoveredType; readonly problems: ReadProblem[] }
  | { readonly ok: false; readonly failure: Failure };

/** The types set, read: valid names, and the members that are not valid type names. */
export interface TypeList {
  readonly types: string[];
  readonly invalid: string[];
  /** More members than `max` were there; only `max` were read. */
  readonly isTruncated: boolean;
}

/**
 * Reads history, rollups and recovery data from Redis. Every method may reject with a
 * connection-level failure (the caller falls back to memory); problems of one type's data are
 * returned as problems of that type, never thrown at the others.
 */
export class RedisReader {
  constructor(
    private readonly client: MonitorRedis,
    private readonly keys: KeySpace,
  ) {}

  /** One history page, newest first, with an exact cursor. */
  async history(q: NormalizedHistoryQuery): Promise<Pick<HistoryPage, 'events' | 'nextBefore'>> {
    const k = this.keys.forType(q.type);
    const [members, more, curScore, curMember] = (await this.client.cmHistory(
      k.events,
      q.to,
      q.from,
      q.before === null ? '' : q.before.timestamp,
      q.before === null ? '' : `{"id":"${q.before.id}"`,
      q.limit,
      q.kind ?? '',
      q.errorsOnly ? '1' : '0',
      HISTORY_SCAN_CAP,
      q.instance === undefined ? '' : `{"id":"${q.instance}:`,
    )) as unknown as [string[], number, string, string];
    const events: ConnectionEvent[] = [];
    for (const m of members) {
      try {
        events.push(JSON.parse(m) as ConnectionEvent);
      } catch {
        // A corrupt member is left out of the page; the cursor still moves past it.
      }
    }
    let nextBefore: string | null = null;
    const id = curMember === '' ? null : memberId(curMember);
    if (more === 1 && id !== null) nextBefore = encodeCursor({ timestamp: Number(curScore), id });
    return { events, nextBefore };
  }

  /**
   * Rollups of one type at `resolution` whose buckets start in [from, to], of the fleet or of one
   * instance, plus (hours and days) the minutes of the range not folded into them yet. A field
   * that does not parse is skipped (its bucket reads as empty).
   */
  async rollups(
    type: string,
    from: number,
    to: number,
    resolution: Resolution,
    instance?: string,
  ): Promise<Rollup[]> {
    const k = this.keys.forType(type);
    const key = instance === undefined ? k.series : k.instanceSeries(instance);
    const size = RESOLUTION_MS[resolution];
    const first = bucketStart(from, size);
    if (first > to) return [];
    const fields: string[] = [];
    for (let t = first; t <= to; t += size) fields.push(seriesField(resolution, t));
    const values =
      resolution === 'minute'
        ? // One HMGET of every minute of the range (a missing minute is nil): no index to read
          // first, and a plain command (a script would copy every rollup through Lua strings).
          await this.client.hmget(key, ...fields)
        : await this.coarse(key, fields, first, to);
    const out: Rollup[] = [];
    for (const json of values) {
      const r = json === null ? null : tryDecodeRollup(json);
      if (r !== null) out.push(r);
    }
    return out;
  }

  /**
   * Hours or days, and the minutes of [from, to] not folded into them yet (`_pending`). The
   * buckets and the pending list are read in one MULTI (a consistent snapshot), the pending
   * minutes right after: a minute folded in between is still stored and not in the snapshot's
   * buckets, so it counts once. Only a pending minute trimmed in between (a type idle for longer
   * than the retention, folded and trimmed by one write) would be missing: the read is then done
   * again, at most {@link COARSE_READ_ATTEMPTS} times.
   */
  private async coarse(
    key: string,
    fields: readonly string[],
    from: number,
    to: number,
  ): Promise<(string | null)[]> {
    for (let attempt = 1; ; attempt++) {
      const results = await this.client
        .multi()
        .hmget(key, ...fields)
        .hget(key, PENDING_FIELD)
        .exec();
      const failed = results?.find(([err]) => err !== null)?.[0];
      if (failed) throw failed;
      const buckets = (results?.[0]?.[1] ?? []) as (string | null)[];
      const minutes = pendingMinutes(results?.[1]?.[1] as string | null, from, to);
      if (minutes.length === 0) return buckets;
      const pending = await this.client.hmget(key, ...minutes.map((t) => seriesField('minute', t)));
      if (pending.every((v) => v !== null) || attempt === COARSE_READ_ATTEMPTS) {
        return [...buckets, ...pending];
      }
    }
  }

  /** The types set: at most `max` members, sorted; invalid names apart. */
  async types(max: number): Promise<TypeList> {
    const names: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await this.client.sscan(this.keys.types, cursor, 'COUNT', 1_000);
      cursor = next;
      names.push(...page);
    } while (cursor !== '0' && names.length < max);
    const read = names.slice(0, max);
    return {
      types: read.filter((t) => NAME_PATTERN.test(t)).sort(),
      invalid: read.filter((t) => !NAME_PATTERN.test(t)),
      isTruncated: names.length > max || cursor !== '0',
    };
  }

  /**
   * One type's recovery: the newest `limit` events since `from` (as stored text, with their
   * timestamps) and a loader of the fleet's minute rollups. A corrupt key or member
   * makes a problem of this type and recovers what is sound (a key of the wrong type: nothing of
   * it); a connection-level failure is returned for a later retry.
   */
  async recover(type: string, from: number, to: number, limit: number): Promise<TypeRecovery> {
    const k = this.keys.forType(type);
    // The minutes of the window only (the hash also holds hours and days), and a few ahead of
    // the clock: a producer's clock may run ahead of ours.
    const minutes: string[] = [];
    for (let t = minuteOf(from); t <= to + RECOVERY_AHEAD_MS; t += MINUTE_MS)
      minutes.push(seriesField('minute', t));
    let results: [Error | null, unknown][] | null;
    try {
      // Plain commands in one pipeline (one slot per type in cluster mode): a Lua script would
      // copy 10,000 members through Lua tables and serialise the types on the server.
      results = await this.client
        .pipeline()
        .zrange(k.events, '+inf', String(from), 'BYSCORE', 'REV', 'LIMIT', 0, limit)
        .hmget(k.series, ...minutes)
        .exec();
    } catch (err) {
      return { ok: false, failure: classifyFailure(err) };
    }
    if (results === null) return { ok: false, failure: classifyFailure(new Error('aborted')) };
    const problems: ReadProblem[] = [];
    const keyOf = [k.events, k.series];
    for (const [i, [err]] of results.entries()) {
      if (err === null) continue;
      const failure = classifyFailure(err);
      if (failure.isConnection) return { ok: false, failure };
      problems.push({ type, key: keyOf[i], reason: failure.reason, count: 0 });
    }
    const value = <T>(i: number, empty: T): T =>
      (results?.[i]?.[0] === null ? results[i]?.[1] : empty) as T;
    const stored = value<string[]>(0, []);
    const members: string[] = [];
    const timestamps: number[] = [];
    for (const m of stored) {
      const t = memberTimestamp(m);
      if (t === null || memberId(m) === null) continue;
      members.push(m);
      timestamps.push(t);
    }
    if (members.length < stored.length) {
      problems.push({
        type,
        key: k.events,
        reason: 'members that are not stored events were skipped',
        count: stored.length - members.length,
      });
    }
    const rollupValues = value<(string | null)[]>(1, []);
    // The rollups are parsed only when memory has to answer a time series, which keeps recovery to
    // one copy of the text. A field that does not parse is skipped.
    const rollups = (): Rollup[] => {
      const out: Rollup[] = [];
      for (const json of rollupValues) {
        const r = json === null ? null : tryDecodeRollup(json);
        if (r !== null) out.push(r);
      }
      return out;
    };
    const hasRollups = rollupValues.some((v) => v !== null);
    return {
      ok: true,
      recovered: { type, members, timestamps, rollups, hasRollups },
      problems,
    };
  }
}

/** The minutes of a `_pending` list within [from, to] (none when it does not parse). */
function pendingMinutes(json: string | null, from: number, to: number): number[] {
  if (json === null) return [];
  try {
    const list = JSON.parse(json) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter((t): t is number => typeof t === 'number' && t >= from && t <= to);
  } catch {
    return [];
  }
}

function tryDecodeRollup(json: string): Rollup | null {
  try {
    const r = decodeRollup(json);
    return Number.isFinite(r.t) && Number.isFinite(r.events) ? r : null;
  } catch {
    return null;
  }
}
