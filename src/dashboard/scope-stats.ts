/**
 * Live numbers per type for a scope. The fleet's come from Redis (`/api/stats?scope=fleet`:
 * merged totals and histograms), this service's own from `/api/stats`. Another instance's come
 * from its last heartbeat (`/api/instances`), which carries its events, errors and events/s per
 * type but no latencies: those show as missing here, and its latency over time is in the charts.
 */
import { api, ApiError } from './api.js';
import type { InstanceInfo, Scope, StatsMap, TypeStats } from './types.js';

/** Which stream a scope's live updates come from (`fleet` for another instance: it is in there). */
export function liveScopeOf(scope: Scope, ownId: string): 'instance' | 'fleet' {
  return scope.kind === 'instance' && scope.id === ownId ? 'instance' : 'fleet';
}

/** The stats of one instance from its heartbeat: counts and rate only. */
export function statsFromHeartbeat(info: InstanceInfo | undefined): StatsMap {
  const out: StatsMap = {};
  if (info === undefined) return out;
  for (const [type, t] of Object.entries(info.types)) {
    const stats: TypeStats = {
      type,
      events: t.events,
      errors: t.errors,
      errorRate: t.events > 0 ? t.errors / t.events : 0,
      kinds: {},
      avgDurationMs: null,
      p50DurationMs: null,
      p95DurationMs: null,
      p99DurationMs: null,
      maxDurationMs: null,
      firstEventAt: null,
      lastEventAt: null,
      eventsPerSecond: t.eventsPerSecond,
    };
    out[type] = stats;
  }
  return out;
}

/**
 * The fleet's instances, or null when the service has no fleet API (an older service answers
 * 404): the dashboard then knows this instance only.
 */
export async function fetchInstances(): Promise<InstanceInfo[] | null> {
  try {
    return (await api.instances()).instances;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** The stats of `scope`, and the instances when the answer carried them. */
export async function fetchScopeStats(
  scope: Scope,
  ownId: string,
): Promise<{ stats: StatsMap; instances: InstanceInfo[] | null }> {
  if (scope.kind === 'fleet') {
    const fleet = await api.fleetStats();
    return { stats: fleet.stats, instances: fleet.instances };
  }
  if (scope.id === ownId) return { stats: await api.stats(), instances: null };
  const instances = await fetchInstances();
  return {
    stats: statsFromHeartbeat(instances?.find((i) => i.id === scope.id)),
    instances,
  };
}
