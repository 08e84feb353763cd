/**
 * The reads of Redis persistence, behind one gate: a read goes to Redis only while it is
 * connected, the monitor is not closing and (per type) the type's shard circuit is closed. A read
 * that fails is logged and answered with null — the monitor then answers from memory — or, for
 * one type of many, leaves that type out, so one dead shard does not turn every answer into
 * memory's.
 */
import type { Aggregate } from '../core/aggregate.js';
import type { InstanceInfo } from '../core/fleet.js';
import type { NotableEvent, NotableQuery } from '../core/notable.js';
import type { TypedRollups } from '../core/persistence.js';
import type { HistoryPage, NormalizedHistoryQuery } from '../core/query.js';
import type { StorageEstimate } from '../core/storage.js';
import type { Resolution } from '../core/time-series.js';
import type { MonitorRedis } from './client.js';
import { decodeStats } from './codec.js';
import type { InstanceRegistry } from './instance-registry.js';
import type { KeySpace } from './keys.js';
import type { NotableStore } from './notable-store.js';
import type { RedisReader } from './reader.js';
import type { StorageMeter } from './storage-meter.js';

/** What the reads need of Redis persistence. */
export interface RedisReadsDeps {
  readonly client: MonitorRedis;
  readonly keys: KeySpace;
  readonly reader: RedisReader;
  readonly registry: InstanceRegistry;
  readonly notable: NotableStore;
  readonly storage: StorageMeter;
  readonly maxTypes: number;
  /** True while the monitor is closing (reads stop). */
  readonly isClosing: () => boolean;
  /** True while the circuit of the shard holding `type` is closed. */
  readonly isShardClosed: (type: string) => boolean;
  /** Logs a failed read (its message cleaned of secrets). */
  readonly readFailed: (err: unknown) => void;
}

/** Every read of Redis persistence; null means "answer from memory". */
export class RedisReads {
  constructor(private readonly d: RedisReadsDeps) {}

  async history(
    q: NormalizedHistoryQuery,
  ): Promise<Pick<HistoryPage, 'events' | 'nextBefore'> | null> {
    if (!this.isReadable(q.type)) return null;
    return this.attempt(() => this.d.reader.history(q));
  }

  /** Rollups per type; a type whose shard cannot answer now is left out. */
  async rollups(
    types: readonly string[] | undefined,
    from: number,
    to: number,
    resolution: Resolution,
    instance?: string,
  ): Promise<TypedRollups | null> {
    return this.perType(types, (type) =>
      this.d.reader.rollups(type, from, to, resolution, instance),
    );
  }

  /** The fleet's totals (the stats hashes), per type the store can answer now. */
  async fleetTotals(types: readonly string[] | undefined): Promise<Map<string, Aggregate> | null> {
    const totals = await this.perType(types, async (type) =>
      decodeStats(await this.d.client.hgetall(this.d.keys.forType(type).stats)),
    );
    if (totals === null) return null;
    const out = new Map<string, Aggregate>();
    for (const [type, a] of totals) if (a !== null) out.set(type, a);
    return out;
  }

  /** Every instance of the fleet seen within the retention. */
  instances(): Promise<InstanceInfo[] | null> {
    if (!this.isConnected()) return Promise.resolve(null);
    return this.attempt(() => this.d.registry.list());
  }

  /** The fleet's notable events. */
  notable(q: NotableQuery): Promise<NotableEvent[] | null> {
    if (!this.isConnected()) return Promise.resolve(null);
    return this.attempt(() => this.d.notable.list(q));
  }

  /** The memory estimate of every stored type. */
  async storage(): Promise<StorageEstimate | null> {
    if (!this.isConnected()) return null;
    return this.attempt(async () => {
      const [list, instances] = await Promise.all([
        this.d.reader.types(this.d.maxTypes),
        this.d.registry.list(),
      ]);
      return this.d.storage.estimate(
        list.types,
        instances.map((i) => i.id),
      );
    });
  }

  /** `read` for every type (the stored types when `types` is undefined) whose shard can answer. */
  private async perType<T>(
    types: readonly string[] | undefined,
    read: (type: string) => Promise<T>,
  ): Promise<Map<string, T> | null> {
    if (!this.isConnected()) return null;
    const list =
      types ?? (await this.attempt(async () => (await this.d.reader.types(this.d.maxTypes)).types));
    if (list === null) return null;
    const out = new Map<string, T>();
    await Promise.all(
      list.map(async (type) => {
        if (!this.isReadable(type)) return;
        const value = await this.attempt(() => read(type));
        if (value !== null) out.set(type, value);
      }),
    );
    return out;
  }

  private async attempt<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch (err) {
      this.d.readFailed(err);
      return null;
    }
  }

  private isConnected(): boolean {
    return !this.d.isClosing() && this.d.client.status === 'ready';
  }

  private isReadable(type: string): boolean {
    return this.isConnected() && this.d.isShardClosed(type);
  }
}
