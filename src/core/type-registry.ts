/**
 * The in-memory state of every connection type — its event ring, live stats and minute rollups —
 * created on first use, and the bounds on all of it: at most `maxTypes` types, `maxKindsPerType`
 * distinct kinds per type, and `maxMemoryBytes` (estimated) held by the event rings together,
 * evicting the oldest events across types. Stats and rollups are aggregates: eviction never
 * changes them.
 */
import { MonitorError } from './errors.js';
import { assertName, estimateStoredBytes, type ConnectionEvent } from './event.js';
import { EventRing } from './event-ring.js';
import { LiveStats } from './live-stats.js';
import type { RecoveredType } from './persistence.js';
import type { MemoryStatus } from './status.js';
import type { Rollup } from './aggregate.js';
import { RollupStore } from './rollup-store.js';

/** What memory holds for one type. */
export interface TypeState {
  /** This process's events, then (behind them) the fleet's recovered at start. */
  readonly buffer: EventRing;
  /** This process's own numbers, since it started. */
  readonly stats: LiveStats;
  /** This process's own minute rollups. */
  readonly rollups: RollupStore;
  /** The fleet's minute rollups recovered at start (to answer when Redis cannot). */
  readonly recovered: RollupStore;
}

/** Settings of {@link TypeRegistry}. */
export interface TypeRegistryOptions {
  /** Events kept per type. */
  readonly bufferSize: number;
  /** Events and rollups are kept for this long, ms. */
  readonly retentionMs: number;
  /** Most types; a new one beyond it is rejected. */
  readonly maxTypes: number;
  /** Most distinct kinds per type; a new one beyond it is rejected. */
  readonly maxKindsPerType: number;
  /** Most (estimated) bytes the event rings hold together. */
  readonly maxMemoryBytes: number;
  /** Instance id stamped on local events. */
  readonly instanceId: string;
  /** Rebuilds a local event's id from its sequence number. */
  readonly idOf: (seq: number) => string;
}

/**
 * Eviction frees down to this fraction of the bound, so a full budget evicts in chunks (one scan
 * of the types per chunk) rather than one event per record.
 */
const EVICT_TO = 0.95;

/** Every type's state, by name, and the bounds on them. */
export class TypeRegistry {
  private readonly types = new Map<string, TypeState>();
  private usedBytes = 0;
  private evicted = 0;

  constructor(private readonly options: TypeRegistryOptions) {}

  /** The state of `type`, or undefined when unseen. */
  get(type: string): TypeState | undefined {
    return this.types.get(type);
  }

  /**
   * The state of `type`, created on first use.
   * @throws MonitorError `CM_ERR_INVALID_EVENT` for a bad name or a type beyond `maxTypes`.
   */
  getOrAdd(type: string): TypeState {
    const existing = this.types.get(type);
    if (existing !== undefined) return existing;
    assertName(type, 'type');
    if (this.types.size >= this.options.maxTypes) {
      throw new MonitorError(
        'CM_ERR_INVALID_EVENT',
        `invalid event: type ${JSON.stringify(type)} — at most ${this.options.maxTypes} connection types are kept (option maxTypes)`,
        { field: 'type', value: type },
      );
    }
    const o = this.options;
    const state: TypeState = {
      buffer: new EventRing(o.bufferSize, type, o.instanceId, o.idOf),
      stats: new LiveStats(),
      rollups: new RollupStore(o.retentionMs),
      recovered: new RollupStore(o.retentionMs),
    };
    this.types.set(type, state);
    return state;
  }

  /**
   * Throws unless `kind` is already counted for this type or there is room for one more.
   * @throws MonitorError `CM_ERR_INVALID_EVENT` naming `kind` and the limit.
   */
  admitKind(state: TypeState, kind: string): void {
    if (state.stats.isKnownKind(kind)) return;
    if (state.stats.kindCount < this.options.maxKindsPerType) {
      state.stats.noteNewKind();
      return;
    }
    throw new MonitorError(
      'CM_ERR_INVALID_EVENT',
      `invalid event: kind ${JSON.stringify(kind)} — this type already has ${state.stats.kindCount} distinct kinds, at most ${this.options.maxKindsPerType} are kept (option maxKindsPerType)`,
      { field: 'kind', value: kind },
    );
  }

  /** Accounts for `added` bytes pushed (and `freed` by an overwrite); evicts past the bound. */
  noteAdded(added: number, freed: number): void {
    this.usedBytes += added - freed;
    if (this.usedBytes > this.options.maxMemoryBytes) this.evict();
  }

  /**
   * Drops what is older than the retention (events and rollup minutes), by the clock, so memory
   * is trimmed by time even for a type that receives nothing new.
   */
  sweep(now: number): void {
    const cutoff = now - this.options.retentionMs;
    for (const s of this.types.values()) {
      const before = s.buffer.size;
      this.usedBytes -= s.buffer.dropOlderThan(cutoff);
      this.evicted += before - s.buffer.size;
      s.rollups.trim(now);
      s.recovered.trim(now);
    }
  }

  /** Memory use of the event rings. */
  memory(): MemoryStatus {
    let events = 0;
    for (const s of this.types.values()) events += s.buffer.size;
    return {
      usedBytes: this.usedBytes,
      maxBytes: this.options.maxMemoryBytes,
      events,
      evicted: this.evicted,
    };
  }

  /**
   * Minute rollups of `type` in [from, to] from memory: the fleet's (what was recovered at start
   * plus this process's own), or one instance's — this process's own when it is `selfId`, none of
   * another instance (memory holds only this process's own numbers).
   */
  memoryRollups(
    type: string,
    from: number,
    to: number,
    now: number,
    instance: string | undefined,
  ): Rollup[] {
    const s = this.types.get(type);
    if (s === undefined) return [];
    if (instance === undefined) {
      return [...s.rollups.range(from, to, now), ...s.recovered.range(from, to, now)];
    }
    return instance === this.options.instanceId ? s.rollups.range(from, to, now) : [];
  }

  /** Type names, sorted. */
  names(): string[] {
    return [...this.types.keys()].sort();
  }

  /** Every (type, state), in creation order. */
  entries(): IterableIterator<[string, TypeState]> {
    return this.types.entries();
  }

  /**
   * Merges recovered history: recovered events go behind what this process recorded since it
   * was created (they are older) and the fleet's minute rollups are kept apart; the stats are
   * this process's own and take nothing. Types beyond `maxTypes` are skipped; memory stays within
   * its bound (the oldest events are evicted).
   */
  mergeRecovered(recovered: readonly RecoveredType[]): void {
    for (const r of recovered) {
      if (!this.types.has(r.type)) {
        // A type idle for longer than the retention (listed for its long history) takes no
        // place in memory.
        if (r.members.length === 0 && !r.hasRollups) continue;
        if (this.types.size >= this.options.maxTypes) continue;
      }
      const state = this.getOrAdd(r.type);
      const current = state.buffer.newest();
      const room = Math.max(0, this.options.bufferSize - current.length);
      this.usedBytes -= state.buffer.bytes;
      state.buffer.clear();
      for (let i = Math.min(room, r.members.length) - 1; i >= 0; i--) {
        const json = r.members[i] as string;
        const bytes = estimateStoredBytes(json);
        state.buffer.pushEvent(json, r.timestamps[i] as number, bytes);
      }
      for (let i = current.length - 1; i >= 0; i--) {
        const e = current[i] as ConnectionEvent;
        state.buffer.pushEvent(e, e.timestamp, estimateStoredBytes(JSON.stringify(e)));
      }
      this.usedBytes += state.buffer.bytes;
      state.recovered.addLater(r.rollups);
    }
    if (this.usedBytes > this.options.maxMemoryBytes) this.evict();
  }

  /**
   * Evicts the oldest events across types until the rings hold at most {@link EVICT_TO} of the
   * bound: each round finds the type whose oldest event is oldest and drops from it until its
   * oldest is newer than the runner-up's (or the target is met).
   */
  private evict(): void {
    const target = this.options.maxMemoryBytes * EVICT_TO;
    while (this.usedBytes > target) {
      let oldest: TypeState | undefined;
      let runnerUp = Number.POSITIVE_INFINITY;
      for (const s of this.types.values()) {
        const t = s.buffer.oldestTimestamp;
        if (oldest === undefined || t < oldest.buffer.oldestTimestamp) {
          if (oldest !== undefined) runnerUp = Math.min(runnerUp, oldest.buffer.oldestTimestamp);
          oldest = s;
        } else if (t < runnerUp) {
          runnerUp = t;
        }
      }
      if (oldest === undefined || oldest.buffer.size === 0) return;
      do {
        this.usedBytes -= oldest.buffer.dropOldest(1);
        this.evicted++;
      } while (
        this.usedBytes > target &&
        oldest.buffer.size > 0 &&
        oldest.buffer.oldestTimestamp <= runnerUp
      );
    }
  }
}
