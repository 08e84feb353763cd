import type { ConnectionEvent } from '../core/event.js';
import { encodeCursor, type HistoryPage, type NormalizedHistoryQuery } from '../core/query.js';
import type { Rollup } from '../core/aggregate.js';
import { minuteOf } from '../core/time-series.js';
import type { MonitorRedis } from './client.js';
import { decodeRollup, decodeStats, memberId, memberTimestamp } from './codec.js';
import type { KeySpace } from './keys.js';
import type { RecoveredType } from '../core/persistence.js';

/** Most members one history call scans when filters skip events (bounds the script's run time). */
export const HISTORY_SCAN_CAP = 20_000;

/** Reads history, rollups and recovery data from Redis. Every method may reject (caller falls back). */
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
    )) as unknown as [string[], number, string, string];
    const events = members.map((m) => JSON.parse(m) as ConnectionEvent);
    let nextBefore: string | null = null;
    const id = curMember === '' ? null : memberId(curMember);
    if (more === 1 && id !== null) nextBefore = encodeCursor({ timestamp: Number(curScore), id });
    return { events, nextBefore };
  }

  /** Minute rollups of the given types (all known types when undefined) in [from, to]. */
  async rollups(types: readonly string[] | undefined, from: number, to: number): Promise<Rollup[]> {
    const list = types ?? (await this.types());
    // Plain commands (the minute index, then HMGET): a Lua script would copy every rollup
    // through Lua strings on the server.
    const parts = await Promise.all(
      list.map(async (t) => {
        const k = this.keys.forType(t);
        const minutes = await this.client.zrange(
          k.rollupIndex,
          String(minuteOf(from)),
          String(to),
          'BYSCORE',
        );
        return minutes.length === 0 ? [] : this.client.hmget(k.rollups, ...minutes);
      }),
    );
    const out: Rollup[] = [];
    for (const part of parts)
      for (const json of part) if (json !== null) out.push(decodeRollup(json));
    return out;
  }

  /** Every type ever written under this prefix. */
  async types(): Promise<string[]> {
    return (await this.client.smembers(this.keys.types)).sort();
  }

  /**
   * The newest `limit` events since `from` (as stored text), the stats totals, the timestamps of
   * the events of the last minute before `now` (for the live rate) and a loader of the minute
   * rollups, for every known type.
   */
  async recover(from: number, limit: number, now: number): Promise<RecoveredType[]> {
    const types = await this.types();
    return Promise.all(
      types.map(async (type) => {
        const k = this.keys.forType(type);
        // Plain commands in one pipeline (one slot per type in cluster mode): a Lua script would
        // copy 10,000 members through Lua tables and serialise the types on the server.
        const results = await this.client
          .pipeline()
          .zrange(k.events, '+inf', String(from), 'BYSCORE', 'REV', 'LIMIT', 0, limit)
          .hgetall(k.stats)
          .hgetall(k.rollups)
          .exec();
        if (results === null) throw new Error('recovery pipeline was aborted');
        for (const [err] of results) if (err) throw err;
        const members = results[0]?.[1] as string[];
        const stats = results[1]?.[1] as Record<string, string>;
        const stored = results[2]?.[1] as Record<string, string>;
        const recentTimestamps: number[] = [];
        for (const m of members) {
          const t = memberTimestamp(m);
          if (t === null || t <= now - 60_000) break;
          recentTimestamps.push(t);
        }
        const firstMinute = minuteOf(from);
        // The rollups are a snapshot taken with the stats; they are parsed only when memory has to
        // answer a time series, which keeps recovery to one copy of the text.
        const rollups = (): Rollup[] => {
          const out: Rollup[] = [];
          for (const minute in stored) {
            if (Number(minute) >= firstMinute) out.push(decodeRollup(stored[minute] as string));
          }
          return out;
        };
        return { type, members, recentTimestamps, totals: decodeStats(stats), rollups };
      }),
    );
  }
}
