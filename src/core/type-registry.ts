/**
 * The in-memory state of every connection type: its event ring, live stats and minute rollups,
 * created on first use up to `maxTypes`, and the merge of history recovered from a store.
 */
import { MonitorError } from './errors.js';
import { assertName, type ConnectionEvent } from './event.js';
import { EventRing } from './event-ring.js';
import { LiveStats } from './live-stats.js';
import type { RecoveredType } from './persistence.js';
import { RollupStore } from './rollup-store.js';

/** What memory holds for one type. */
export interface TypeState {
  readonly buffer: EventRing;
  readonly stats: LiveStats;
  readonly rollups: RollupStore;
}

/** Settings of {@link TypeRegistry}. */
export interface TypeRegistryOptions {
  /** Events kept per type. */
  readonly bufferSize: number;
  /** Rollups kept for this long, ms. */
  readonly retentionMs: number;
  /** Most types; a new one beyond it is rejected. */
  readonly maxTypes: number;
  /** Instance id stamped on local events. */
  readonly instanceId: string;
  /** Rebuilds a local event's id from its sequence number. */
  readonly idOf: (seq: number) => string;
}

/** Every type's state, by name. */
export class TypeRegistry {
  private readonly types = new Map<string, TypeState>();

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
    };
    this.types.set(type, state);
    return state;
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
   * was created (they are older), totals and minute rollups are added, the rate window is filled
   * from the timestamps of the last minute before `now`. Types beyond `maxTypes` are skipped.
   */
  mergeRecovered(recovered: readonly RecoveredType[], now: number): void {
    for (const r of recovered) {
      if (!this.types.has(r.type) && this.types.size >= this.options.maxTypes) continue;
      const state = this.getOrAdd(r.type);
      const current = state.buffer.newest();
      const room = Math.max(0, this.options.bufferSize - current.length);
      state.buffer.clear();
      for (let i = Math.min(room, r.members.length) - 1; i >= 0; i--) {
        state.buffer.pushEvent(r.members[i] as string);
      }
      for (let i = current.length - 1; i >= 0; i--) {
        state.buffer.pushEvent(current[i] as ConnectionEvent);
      }
      if (r.totals !== null) state.stats.addTotals(r.totals);
      for (const t of r.recentTimestamps) if (t > now - 60_000) state.stats.addToRate(t);
      state.rollups.addLater(r.rollups);
    }
  }
}
