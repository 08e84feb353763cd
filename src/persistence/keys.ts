/**
 * Every Redis key pattern of connection-monitor, in one place (see docs/redis-schema.md).
 *
 * Standalone mode keeps the seed's names (`connection_monitor:glm:events`); cluster mode wraps the
 * type in a hash tag (`connection_monitor:{glm}:events`) so one type's keys share a slot and one
 * batch per type is one atomic script call.
 */
export interface TypeKeys {
  /** Sorted set: score = timestamp ms, member = event JSON. */
  readonly events: string;
  /** Hash: running totals. */
  readonly stats: string;
  /** Hash: field = minute start ms, value = rollup JSON. */
  readonly rollups: string;
  /** Sorted set: score = member = minute start ms of every rollup field (for range reads and trimming). */
  readonly rollupIndex: string;
  /** Sorted set: score = time applied, member = batch id (makes retried batches no-ops). */
  readonly batches: string;
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
      rollups: `${base}:rollups`,
      rollupIndex: `${base}:rollup_minutes`,
      batches: `${base}:batches`,
    };
  }

  /** Set of every type ever written (discovery at start). */
  get types(): string {
    return `${this.prefix}:types`;
  }
}
