/**
 * The Redis memory estimate of `/api/status`: `MEMORY USAGE` of each type's keys (the fleet's and
 * every listed instance's), the measured bytes per rollup, and the projection of the fleet's
 * series at full retention of every resolution. Measured at most once a minute (cached), for at
 * most {@link MAX_MEASURED_TYPES} types and {@link MAX_MEASURED_INSTANCES} instances, one pipeline
 * per type.
 */
import type { Clock } from '../core/clock.js';
import type { StorageEstimate, TypeStorage } from '../core/storage.js';
import { RESOLUTION_MS, type Resolution } from '../core/time-series.js';
import type { MonitorRedis } from './client.js';
import type { KeySpace } from './keys.js';

/** Most types measured in one estimate. */
export const MAX_MEASURED_TYPES = 256;
/** Most instances whose own series are measured (the newest listed). */
export const MAX_MEASURED_INSTANCES = 64;
/** How long an estimate is reused, ms. */
export const STORAGE_CACHE_MS = 60_000;

/** Retentions of the three resolutions, ms. */
export interface StorageMeterOptions {
  readonly retentionMs: number;
  readonly hourlyRetentionMs: number;
  readonly dailyRetentionMs: number;
  readonly clock: Clock;
}

/** Measures and caches the estimate. */
export class StorageMeter {
  private cached: StorageEstimate | undefined;
  private measuring: Promise<StorageEstimate> | undefined;

  constructor(
    private readonly client: MonitorRedis,
    private readonly keys: KeySpace,
    private readonly options: StorageMeterOptions,
  ) {}

  /** The estimate for `types` and `instances` (ids), at most a minute old. */
  estimate(types: readonly string[], instances: readonly string[]): Promise<StorageEstimate> {
    const now = this.options.clock.now();
    if (this.cached !== undefined && now - this.cached.measuredAt < STORAGE_CACHE_MS) {
      return Promise.resolve(this.cached);
    }
    this.measuring ??= this.measure(types, instances, now)
      .then((e) => (this.cached = e))
      .finally(() => {
        this.measuring = undefined;
      });
    return this.measuring;
  }

  private async measure(
    allTypes: readonly string[],
    instances: readonly string[],
    now: number,
  ): Promise<StorageEstimate> {
    const types = allTypes.slice(0, MAX_MEASURED_TYPES);
    // One pipeline per type: its keys share a slot in cluster mode.
    const ids = instances.slice(0, MAX_MEASURED_INSTANCES);
    const out = await Promise.all(types.map((t) => this.measureType(t, ids)));
    return {
      measuredAt: now,
      types: out,
      totalBytesNow: out.reduce((sum, t) => sum + t.bytesNow.total, 0),
      omittedTypes: allTypes.length - types.length,
    };
  }

  private async measureType(type: string, instances: readonly string[]): Promise<TypeStorage> {
    const k = this.keys.forType(type);
    const p = this.client.pipeline();
    for (const key of [k.events, k.stats, k.series, k.batches]) p.memory('USAGE', key);
    p.hlen(k.series);
    for (const id of instances) p.memory('USAGE', k.instanceSeries(id));
    const results = (await p.exec()) ?? [];
    let i = 0;
    // A key that is absent (or an error) counts 0.
    const next = (): number => {
      const [err, value] = results[i++] ?? [null, null];
      return err === null && typeof value === 'number' ? value : 0;
    };
    const [events, stats, series, batches, rollups] = [next(), next(), next(), next(), next()];
    let instanceSeries = 0;
    for (let j = 0; j < instances.length; j++) instanceSeries += next();
    const bytesPerRollup = rollups > 0 ? Math.round(series / rollups) : null;
    return {
      type,
      bytesNow: {
        events,
        stats,
        series,
        instanceSeries,
        batches,
        total: events + stats + series + instanceSeries + batches,
      },
      rollups,
      bytesPerRollup,
      atFullRetention: bytesPerRollup === null ? null : this.projection(bytesPerRollup),
    };
  }

  private projection(
    bytesPerRollup: number,
  ): Record<Resolution, { buckets: number; bytes: number }> {
    const keep: Record<Resolution, number> = {
      minute: this.options.retentionMs,
      hour: this.options.hourlyRetentionMs,
      day: this.options.dailyRetentionMs,
    };
    const out = {} as Record<Resolution, { buckets: number; bytes: number }>;
    for (const res of Object.keys(keep) as Resolution[]) {
      const buckets = Math.ceil(keep[res] / RESOLUTION_MS[res]);
      out[res] = { buckets, bytes: buckets * bytesPerRollup };
    }
    return out;
  }
}
