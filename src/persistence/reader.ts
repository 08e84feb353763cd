import type { Rollup } from '../core/aggregate.js';
import type { ConnectionEvent } from '../core/event.js';
import { NAME_PATTERN } from '../core/event.js';
import type { RecoveredType } from '../core/persistence.js';
import { encodeCursor, type HistoryPage, type NormalizedHistoryQuery } from '../core/query.js';
import { MINUTE_MS, minuteOf } from '../core/time-series.js';
import type { MonitorRedis } from './client.js';
import { decodeRollup, memberId, memberTimestamp } from './codec.js';
import { classifyFailure, type Failure } from './failures.js';
import { seriesField, seriesPrefix, type KeySpace } from './keys.js';

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
   * Minute rollups of one type in [from, to], of the fleet or of one instance. A field that does
   * not parse is skipped (its minute reads as empty).
   */
  async rollups(type: string, from: number, to: number, instance?: string): Promise<Rollup[]> {
    // One HMGET of every minute of the range (a missing minute is nil): no index to read first,
    // and plain commands (a Lua script would copy every rollup through Lua strings).
    const k = this.keys.forType(type);
    const fields: string[] = [];
    for (let t = minuteOf(from); t <= to; t += MINUTE_MS) fields.push(seriesField('m', t));
    if (fields.length === 0) return [];
    const key = instance === undefined ? k.series : k.instanceSeries(instance);
    const out: Rollup[] = [];
    for (const json of await this.client.hmget(key, ...fields)) {
      const r = json === null ? null : tryDecodeRollup(json);
      if (r !== null) out.push(r);
    }
    return out;
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
  async recover(type: string, from: number, limit: number): Promise<TypeRecovery> {
    const k = this.keys.forType(type);
    let results: [Error | null, unknown][] | null;
    try {
      // Plain commands in one pipeline (one slot per type in cluster mode): a Lua script would
      // copy 10,000 members through Lua tables and serialise the types on the server.
      results = await this.client
        .pipeline()
        .zrange(k.events, '+inf', String(from), 'BYSCORE', 'REV', 'LIMIT', 0, limit)
        .hgetall(k.series)
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
    const rollupFields = value<Record<string, string>>(1, {});
    const prefix = seriesPrefix('m');
    const firstMinute = minuteOf(from);
    // The rollups are parsed only when memory has to answer a time series, which keeps recovery to
    // one copy of the text. A field that does not parse is skipped.
    const rollups = (): Rollup[] => {
      const out: Rollup[] = [];
      for (const field in rollupFields) {
        if (!field.startsWith(prefix) || Number(field.slice(prefix.length)) < firstMinute) continue;
        const r = tryDecodeRollup(rollupFields[field] as string);
        if (r !== null) out.push(r);
      }
      return out;
    };
    return { ok: true, recovered: { type, members, timestamps, rollups }, problems };
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
