/**
 * The fleet: every monitor that persists to the same Redis (same prefix). Its instances, their
 * states and the fleet-wide numbers. Node-free and type-only but for the state rule, so the
 * dashboard reads the same shapes.
 */
import type { CircuitState } from './circuit.js';
import type { TypeStats } from './live-stats.js';

/**
 * `alive`: seen within 2 heartbeats; `stale`: seen longer ago, within {@link STALE_HEARTBEATS}
 * heartbeats (or 30 s); `stopped`: closed cleanly; `gone`: not seen for longer (crashed or
 * unreachable), kept in the list for the retention so history stays labelled.
 */
export type InstanceState = 'alive' | 'stale' | 'stopped' | 'gone';

/** Heartbeats after which a silent instance is `gone` (at least 30 s). */
export const STALE_HEARTBEATS = 6;

/** What an instance says of itself in each heartbeat. */
export interface InstanceSnapshot {
  id: string;
  host: string;
  pid: number;
  version: string;
  /** Epoch ms (its own clock) when the monitor was created. */
  startedAt: number;
  queueDepth: number;
  dropped: number;
  circuit: CircuitState;
  /** This process's own numbers per type (`getStats()`). */
  types: Record<string, { events: number; errors: number; eventsPerSecond: number }>;
}

/** One instance of the fleet, as `getInstances()` returns it. */
export interface InstanceInfo extends InstanceSnapshot {
  state: InstanceState;
  /** Epoch ms of its last heartbeat, by Redis `TIME`. */
  lastSeenAt: number;
  /** Its clock minus Redis `TIME` at its last heartbeat, ms (positive: it is ahead). */
  clockSkewMs: number;
  /** Round trip of its last heartbeat's `TIME`, ms. */
  redisRttMs: number;
}

/** The state of an instance last seen at `lastSeenAt` (Redis time), seen from `now` (Redis time). */
export function instanceState(
  lastSeenAt: number,
  isStopped: boolean,
  now: number,
  heartbeatMs: number,
): InstanceState {
  if (isStopped) return 'stopped';
  const age = now - lastSeenAt;
  if (age <= 2 * heartbeatMs) return 'alive';
  if (age <= Math.max(STALE_HEARTBEATS * heartbeatMs, 30_000)) return 'stale';
  return 'gone';
}

/** `getFleetStats()`: the fleet's totals per type, from Redis (merged counts and histograms). */
export interface FleetStats {
  stats: Record<string, TypeStats>;
  /** `redis`, or `memory` when Redis cannot answer (then: this process's own stats). */
  source: 'redis' | 'memory';
  instances: InstanceInfo[];
}
