import type { Clock } from '../core/clock.js';
import { errorText } from '../core/redact.js';
import { firstErrorNotable, type PersistenceHooks } from '../core/persistence.js';
import type { MonitorRedis } from './client.js';
import type { EncodedBatch } from './codec.js';
import { classifyFailure, type Failure } from './failures.js';
import type { FleetTail } from './fleet-tail.js';
import type { KeySpace } from './keys.js';
import type { Recovery } from './recovery.js';
import type { BatchSink } from './shard-calls.js';
import { clientOfShard, shardOfKey } from './shards.js';
import type { TypeRegistration } from './type-registration.js';
import { WRITE_FLAGS, writeBatchArgs, type WriteSettings } from './write-script.js';

/** What the sink writes with (owned by `RedisPersistence`). */
export interface BatchSinkParts {
  readonly client: MonitorRedis;
  readonly keys: KeySpace;
  readonly recovery: Recovery;
  readonly registration: TypeRegistration;
  readonly tail: FleetTail;
  readonly settings: WriteSettings;
  readonly instanceId: string;
  readonly quietPeriodMs: number;
  readonly clock: Clock;
  /** Cuts the Redis password out of a message. */
  readonly redact: (text: string) => string;
  /** The monitor's hooks once started (notable events go there). */
  readonly hooks: () => PersistenceHooks | undefined;
}

/**
 * The batch writer's way into Redis: one script call per type-batch, each type recovered before
 * its first write, the written members published to the fleet tail, new types registered.
 */
export class RedisBatchSink implements BatchSink {
  constructor(private readonly p: BatchSinkParts) {}

  /** The shard of a type's keys: `redis`, or the cluster master serving its slot. */
  shardOf(type: string): string {
    return shardOfKey(this.p.client, this.p.keys.forType(type).events);
  }

  /** The half-open probe of a shard: the types set recovered when still owed, then a PING. */
  async probe(shard: string): Promise<void> {
    try {
      if (shard === shardOfKey(this.p.client, this.p.keys.types)) await this.p.recovery.all();
      await clientOfShard(this.p.client, shard).ping();
    } catch (err) {
      throw this.safeError(err);
    }
  }

  /**
   * Writes one shard's batches: each type recovered first when it is not yet, then one script
   * call per batch (one round trip). One entry per batch: null when written, else why not.
   */
  async write(shard: string, batches: readonly EncodedBatch[]): Promise<(Failure | null)[]> {
    const { client, keys, recovery } = this.p;
    if (!recovery.isComplete) recovery.all().catch(() => undefined);
    const types = new Set(batches.map((b) => b.type));
    let blocked: Map<string, Failure>;
    try {
      blocked = await recovery.ensure(types);
    } catch (err) {
      throw this.safeError(err);
    }
    const now = this.p.clock.now();
    const calls = batches.map((b) => {
      const failure = blocked.get(b.type);
      if (failure !== undefined) return Promise.reject(failure);
      return client
        .cmWriteBatch(
          ...writeBatchArgs(keys.forType(b.type), this.p.instanceId, b, now, this.p.settings),
        )
        .then((flags) => {
          // The batch holds the type's first error after a quiet period (fleet-wide).
          if ((flags & WRITE_FLAGS.firstError) !== 0 && b.firstErrorAt !== undefined) {
            this.p
              .hooks()
              ?.notable(firstErrorNotable(b.type, b.firstErrorAt, this.p.quietPeriodMs));
          }
          return flags;
        });
    });
    const results = await Promise.allSettled(calls);
    const written: string[] = [];
    results.forEach((r, i) => {
      const pairs = batches[i]?.pairs ?? [];
      if (r.status === 'fulfilled')
        for (let j = 1; j < pairs.length; j += 2) written.push(pairs[j] as string);
    });
    this.p.tail.publish(written);
    const outcomes = results.map((r) => {
      if (r.status === 'fulfilled') return null;
      const f: Failure = isFailure(r.reason) ? r.reason : classifyFailure(r.reason);
      return { ...f, reason: this.p.redact(f.reason) };
    });
    this.p.registration.register(types, now, {
      // Types whose keys the script created: new ones, or ones whose data Redis lost.
      created: batches.flatMap((b, i) => {
        const r = results[i];
        return r?.status === 'fulfilled' && (r.value & WRITE_FLAGS.newKeys) !== 0 ? [b.type] : [];
      }),
      hadConnectionFailure: outcomes.some((f) => f?.isConnection === true),
    });
    return outcomes;
  }

  /** An error whose message is safe to show (the password cut out). */
  private safeError(err: unknown): Error {
    return new Error(this.p.redact(errorText(err)));
  }
}

function isFailure(value: unknown): value is Failure {
  return typeof value === 'object' && value !== null && 'isConnection' in value;
}
