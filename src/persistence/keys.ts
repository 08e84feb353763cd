/**
 * Every Redis key pattern of connection-monitor, and the field names of its hashes, in one place
 * (see docs/redis-schema.md).
 *
 * Standalone mode keeps the seed's names (`connection_monitor:glm:events`); cluster mode wraps the
 * type in a hash tag (`connection_monitor:{glm}:events`) so one type's keys — the fleet's and
 * every instance's — share a slot and one batch per type is one atomic script call. The instance
 * registry shares its own tag (`connection_monitor:{instances}`).
 */
import type { Resolution } from '../core/time-series.js';

export interface TypeKeys {
  /** Sorted set: score = timestamp ms, member = event JSON. */
  readonly events: string;
  /** Hash: running totals of the fleet (every instance adds to it). */
  readonly stats: string;
  /**
   * Hash: the fleet's rollups, field `m:<minute start ms>` = rollup JSON (`h:`/`d:` for hours and
   * days), plus `_oldest:<res>` (trimming marks) and `_pending` (minutes not folded yet).
   */
  readonly series: string;
  /** Sorted set: score = time applied, member = batch id (makes retried batches no-ops). */
  readonly batches: string;
  /** Hash: the same rollups as {@link series} (minutes and hours), of one instance's events only. */
  instanceSeries(instance: string): string;
}

/** The letter of each resolution in field names (`m:`, `h:`, `d:`). */
export const RESOLUTION_LETTER: Readonly<Record<Resolution, string>> = {
  minute: 'm',
  hour: 'h',
  day: 'd',
};

/** Field of a series hash listing the minutes written but not folded into hours and days yet. */
export const PENDING_FIELD = '_pending';

/** The prefix of the fields of resolution `res` (`m:`). */
export function seriesPrefix(res: Resolution): string {
  return `${RESOLUTION_LETTER[res]}:`;
}

/** The field of the rollup of the bucket starting at `t`, at resolution `res`. */
export function seriesField(res: Resolution, t: number): string {
  return `${seriesPrefix(res)}${t}`;
}

/** The trimming mark of resolution `res` (the oldest bucket start that may still be stored). */
export function oldestField(res: Resolution): string {
  return `_oldest:${RESOLUTION_LETTER[res]}`;
}

/** Keys of the instance registry. */
export interface InstanceKeys {
  /** Sorted set: member = instance id, score = last seen (Redis time, ms). */
  readonly index: string;
  /** String (JSON): the instance's last heartbeat. */
  record(instance: string): string;
}

/** Builds key names for a prefix and mode. */
export class KeySpace {
  constructor(
    readonly prefix: string,
    readonly isCluster: boolean,
  ) {}

  /** Keys of one connection type. */
  forType(type: string): TypeKeys {
    const t = this.isCluster ? `{${type}}` : type;
    const base = `${this.prefix}:${t}`;
    return {
      events: `${base}:events`,
      stats: `${base}:stats`,
      series: `${base}:series`,
      batches: `${base}:batches`,
      instanceSeries: (instance) => `${base}:series:${instance}`,
    };
  }

  /** Set of every type ever written (discovery at start). */
  get types(): string {
    return `${this.prefix}:types`;
  }

  /**
   * Sorted set of notable events (score = when, member = JSON), kept for the hour retention and
   * at most `MAX_NOTABLE` members.
   */
  get notable(): string {
    return this.isCluster ? `${this.prefix}:{notable}` : `${this.prefix}:notable`;
  }

  /** The instance registry (one slot in cluster mode). */
  get instances(): InstanceKeys {
    const base = this.isCluster ? `${this.prefix}:{instances}` : `${this.prefix}:instances`;
    return { index: base, record: (instance) => `${base}:${instance}` };
  }

  /** Pub/sub channel of the fleet live tail (every instance publishes its flushed events). */
  get tail(): string {
    return `${this.prefix}:tail`;
  }

  /** Key whose presence says a fleet tail has listeners (publishers skip the work otherwise). */
  get tailListeners(): string {
    return `${this.prefix}:tail:listeners`;
  }
}
