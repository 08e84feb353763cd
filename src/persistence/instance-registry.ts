/**
 * The fleet's instance registry: every `heartbeatMs` each instance writes what it says of itself
 * (`InstanceSnapshot`), stamped with Redis `TIME` — so liveness never depends on a producer's clock —
 * together with its clock skew against Redis and the heartbeat's round trip. A clean close writes a
 * last heartbeat that says `stopped`; a crashed instance simply stops beating (`stale`, then `gone`).
 *
 * Keys (one slot in cluster mode): `<prefix>:instances` (sorted set: id → last seen) and
 * `<prefix>:instances:<id>` (the last heartbeat, JSON), both kept for the retention.
 * Cost: one `TIME` and one MULTI of four commands per instance per heartbeat.
 */
import type { Clock } from '../core/clock.js';
import { instanceState, type InstanceInfo, type InstanceSnapshot } from '../core/fleet.js';
import type { Logger } from '../logger.js';
import type { MonitorRedis } from './client.js';
import type { InstanceKeys } from './keys.js';

/** Most instances `list()` reads (the newest seen first). */
export const MAX_LISTED_INSTANCES = 1_000;

/** What a heartbeat stores. */
interface Heartbeat extends InstanceSnapshot {
  lastSeenAt: number;
  clockSkewMs: number;
  redisRttMs: number;
  heartbeatMs: number;
  isStopped: boolean;
}

/** Settings of {@link InstanceRegistry}. */
export interface InstanceRegistryOptions {
  readonly heartbeatMs: number;
  /** How long records and the index are kept, ms. */
  readonly retentionMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Heartbeats of this instance, and the fleet's list. */
export class InstanceRegistry {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly client: MonitorRedis,
    private readonly keys: InstanceKeys,
    private readonly options: InstanceRegistryOptions,
    private readonly snapshot: () => InstanceSnapshot,
  ) {}

  /** Beats now and every `heartbeatMs` (unref'd timer). */
  start(): void {
    if (this.timer !== undefined) return;
    void this.beatOnce();
    this.timer = setInterval(() => void this.beatOnce(), this.options.heartbeatMs);
    this.timer.unref();
  }

  /** Stops beating and says `stopped` (bounded by `deadlineMs`; best effort). */
  async stop(deadlineMs: number): Promise<void> {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.beat(true).catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs))),
    ]);
    clearTimeout(timer);
  }

  /** One heartbeat now (skipped while the previous one is still out). */
  private beatOnce(): Promise<void> {
    this.beating ??= this.beat(false)
      .catch((err: unknown) =>
        this.options.logger.debug({ err }, 'connection-monitor: heartbeat failed'),
      )
      .finally(() => {
        this.beating = undefined;
      });
    return this.beating;
  }

  private async beat(isStopped: boolean): Promise<void> {
    const before = this.options.clock.now();
    const [seconds, micros] = await this.client.time();
    const after = this.options.clock.now();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const record: Heartbeat = {
      ...this.snapshot(),
      lastSeenAt: redisNow,
      // The instance's clock at the moment Redis read its own: the middle of the round trip.
      clockSkewMs: Math.round((before + after) / 2 - redisNow),
      redisRttMs: after - before,
      heartbeatMs: this.options.heartbeatMs,
      isStopped,
    };
    const retention = Math.round(this.options.retentionMs);
    const results = await this.client
      .multi()
      .set(this.keys.record(record.id), JSON.stringify(record), 'PX', retention)
      .zadd(this.keys.index, redisNow, record.id)
      .zremrangebyscore(this.keys.index, '-inf', `(${redisNow - retention}`)
      .pexpire(this.keys.index, retention)
      .exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (failed) throw failed;
  }

  /** Every instance seen within the retention, newest first, with its state by Redis time. */
  async list(): Promise<InstanceInfo[]> {
    const [seconds, micros] = await this.client.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const ids = await this.client.zrevrangebyscore(
      this.keys.index,
      '+inf',
      String(now - this.options.retentionMs),
      'LIMIT',
      0,
      MAX_LISTED_INSTANCES,
    );
    if (ids.length === 0) return [];
    const records = await this.client.mget(...ids.map((id) => this.keys.record(id)));
    const out: InstanceInfo[] = [];
    for (const json of records) {
      const hb = json === null ? null : parseHeartbeat(json);
      if (hb === null) continue;
      const { heartbeatMs, isStopped, ...info } = hb;
      out.push({ ...info, state: instanceState(hb.lastSeenAt, isStopped, now, heartbeatMs) });
    }
    return out;
  }
}

/** A stored heartbeat, or null when it is not one (foreign or corrupt data is skipped). */
function parseHeartbeat(json: string): Heartbeat | null {
  try {
    const hb = JSON.parse(json) as Heartbeat;
    const isValid =
      typeof hb === 'object' &&
      hb !== null &&
      typeof hb.id === 'string' &&
      Number.isFinite(hb.lastSeenAt) &&
      Number.isFinite(hb.heartbeatMs) &&
      typeof hb.types === 'object';
    return isValid ? hb : null;
  } catch {
    return null;
  }
}
