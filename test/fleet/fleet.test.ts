/**
 * A fleet of four producer processes (child Node processes, each a ConnectionMonitor with its own
 * instance id) on one Redis, then on a 3-master Redis Cluster: one closes cleanly, one is killed
 * with SIGKILL, one runs with its clock 3 s ahead, one is normal. An observer monitor in this
 * process reads the fleet: every instance in its state (stopped; stale, then gone; alive), the
 * clock skew, the fleet's and each instance's events and errors exact, the fleet p95 from the
 * merged histograms, and history pages filtered by instance.
 *
 * Timings: heartbeats every 2 s (alive within 4 s: room for a producer slowed down by a busy
 * machine). A silent instance is gone after max(6 heartbeats, 30 s), so each run takes a little
 * over 30 s; the two backends run concurrently (context `expect` and `onTestFinished`).
 */
import { describe, it } from 'vitest';
import type { InstanceInfo } from '../../src/core/fleet.js';
import { STALE_HEARTBEATS } from '../../src/core/fleet.js';
import { redisMonitor } from '../helpers/monitor.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { startRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { spawnProducer } from './spawn-producer.js';
import {
  countsByType,
  exactPercentile,
  FLEET_TYPES,
  plannedEvents,
  type PlannedEvent,
} from './workload.js';

const HEARTBEAT_MS = 2_000;
const SKEW_MS = 3_000;
/** How long a silent instance stays `stale` before it is `gone` (the rule of `instanceState`). */
const GONE_AFTER_MS = Math.max(STALE_HEARTBEATS * HEARTBEAT_MS, 30_000);
/** The producers, by workload index. */
const ROLES = ['clean', 'crashed', 'skewed', 'normal'] as const;
type Role = (typeof ROLES)[number];

interface Backend {
  name: string;
  start(): Promise<{
    url: string;
    clusterNodes: { host: string; port: number }[] | undefined;
    stop(): Promise<void>;
  }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'one Redis',
    async start() {
      const redis = await startRedis();
      return { url: redis.url, clusterNodes: undefined, stop: () => redis.stop() };
    },
  },
  {
    name: 'a 3-master Redis Cluster',
    async start() {
      const cluster = await startRedisCluster(3);
      return {
        url: `redis://127.0.0.1:${cluster.nodes[0]?.port}`,
        clusterNodes: cluster.startupNodes,
        stop: () => cluster.stop(),
      };
    },
  },
];

const idOf = (role: Role) => `fleet-${role}`;
const durationsOf = (events: readonly PlannedEvent[], type: string) =>
  events.filter((e) => e.type === type).map((e) => e.durationMs);

/** An instance's own numbers as `{ type: [events, errors] }` (types sorted), as `countsByType` says them. */
function ownCounts(info: InstanceInfo | undefined): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const t of Object.keys(info?.types ?? {}).sort()) {
    const s = info?.types[t] as InstanceInfo['types'][string];
    out[t] = [s.events, s.errors];
  }
  return out;
}

describe.concurrent.each(BACKENDS)('a fleet of four producer processes on $name', (backend) => {
  it(
    'shows each instance in its state with its skew, exact fleet and per-instance numbers, the merged p95, and history per instance',
    {
      timeout: 120_000,
    },
    async ({ expect, onTestFinished }) => {
      const redis = await backend.start();
      onTestFinished(() => redis.stop());
      const { url, clusterNodes } = redis;
      const keyPrefix = `cm_fleet_${Math.random().toString(36).slice(2, 8)}`;
      const planned = ROLES.map((_, index) => plannedEvents(index));
      const producers = ROLES.map((role, index) =>
        spawnProducer({
          redisUrl: url,
          clusterNodes,
          keyPrefix,
          instanceId: idOf(role),
          index,
          skewMs: role === 'skewed' ? SKEW_MS : 0,
          heartbeatMs: HEARTBEAT_MS,
        }),
      );
      onTestFinished(async () => {
        await Promise.all(producers.map((p) => p.kill()));
      });
      const producer = (role: Role) => producers[ROLES.indexOf(role)] as (typeof producers)[number];
      const observer = redisMonitor(url, {
        keyPrefix,
        clusterNodes,
        instanceId: 'fleet-observer',
        heartbeatMs: HEARTBEAT_MS,
      });
      onTestFinished(() => observer.close());
      await observer.start();
      expect(await Promise.all(producers.map((p) => p.flushed))).toEqual(
        planned.map((e) => e.length),
      );

      const instances = async () => new Map((await observer.getInstances()).map((i) => [i.id, i]));
      const states = async () => {
        const byId = await instances();
        return Object.fromEntries(ROLES.map((r) => [r, byId.get(idOf(r))?.state]));
      };
      // Each producer's heartbeat says all its events before anything stops.
      await waitUntil(
        async () => {
          const byId = await instances();
          return ROLES.every(
            (r, i) =>
              JSON.stringify(ownCounts(byId.get(idOf(r)))) ===
              JSON.stringify(countsByType(planned[i] ?? [])),
          );
        },
        'every producer heartbeat with all its events',
        { timeoutMs: 15_000, intervalMs: 100 },
      );

      await producer('clean').close();
      await producer('crashed').kill();
      const killedAt = Date.now();
      await waitUntil(
        async () => (await states()).crashed === 'stale',
        'the killed producer stale',
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(await states()).toEqual({
        clean: 'stopped',
        crashed: 'stale',
        skewed: 'alive',
        normal: 'alive',
      });

      // Clock skew against Redis TIME: +3 s for the skewed one, about 0 for the others.
      const byId = await instances();
      for (const role of ROLES) {
        const skew = byId.get(idOf(role))?.clockSkewMs as number;
        if (role === 'skewed')
          expect(Math.abs(skew - SKEW_MS), `${role} skew ${skew}`).toBeLessThan(500);
        else expect(Math.abs(skew), `${role} skew ${skew}`).toBeLessThan(500);
      }
      // Each instance's own numbers, as its heartbeat says them.
      ROLES.forEach((role, i) =>
        expect(ownCounts(byId.get(idOf(role))), role).toEqual(countsByType(planned[i] ?? [])),
      );

      // The fleet: exact totals, and the p95 of the merged histograms.
      const fleet = await observer.getFleetStats();
      expect(fleet.source).toBe('redis');
      const all = planned.flat();
      const totals = countsByType(all);
      for (const type of FLEET_TYPES) {
        const s = fleet.stats[type];
        expect([s?.events, s?.errors], type).toEqual(totals[type]);
        const exact = exactPercentile(durationsOf(all, type), 0.95);
        const p95 = s?.p95DurationMs as number;
        expect(Math.abs(p95 - exact) / exact, `${type} p95 ${p95} vs exact ${exact}`).toBeLessThan(
          0.1,
        );
        // The workload can tell: the mean of the per-instance p95s misses by more than 10 %.
        const averaged =
          planned.reduce((sum, e) => sum + exactPercentile(durationsOf(e, type), 0.95), 0) /
          planned.length;
        expect(Math.abs(averaged - exact) / exact).toBeGreaterThan(0.1);
      }

      // Each instance from Redis: its minute rollups and its history pages, all and only its own.
      const to = Date.now() + 60_000;
      for (const [i, role] of ROLES.entries()) {
        const instance = idOf(role);
        const own = planned[i] ?? [];
        const counts = countsByType(own);
        for (const type of FLEET_TYPES) {
          const series = await observer.getTimeSeriesData({ type, instance, to });
          expect(series.source).toBe('redis');
          const sum = series.points.reduce(
            (acc, p) => [acc[0] + p.events, acc[1] + p.errors] as [number, number],
            [0, 0] as [number, number],
          );
          expect(sum, `${role} ${type} series`).toEqual(counts[type]);

          const page = await observer.getHistoricalData({ type, instance, to, limit: 1_000 });
          expect(page.source).toBe('redis');
          expect(page.nextBefore).toBeNull();
          expect(new Set(page.events.map((e) => e.instance))).toEqual(new Set([instance]));
          expect(new Set(page.events.map((e) => e.id)).size).toBe(page.events.length);
          const sortedNumbers = (xs: number[]) => [...xs].sort((a, b) => a - b);
          expect(
            sortedNumbers(page.events.map((e) => e.durationMs as number)),
            `${role} ${type} history`,
          ).toEqual(sortedNumbers(durationsOf(own, type)));
        }
      }

      // The killed one expires: gone (still listed), never before its stale time is over.
      await waitUntil(async () => (await states()).crashed === 'gone', 'the killed producer gone', {
        timeoutMs: GONE_AFTER_MS + 15_000,
        intervalMs: 250,
      });
      expect(Date.now() - killedAt).toBeGreaterThan(GONE_AFTER_MS - 2 * HEARTBEAT_MS);
      expect(await states()).toEqual({
        clean: 'stopped',
        crashed: 'gone',
        skewed: 'alive',
        normal: 'alive',
      });
      // A dead instance never resets the fleet's totals.
      const after = await observer.getFleetStats();
      for (const type of FLEET_TYPES) {
        expect([after.stats[type]?.events, after.stats[type]?.errors]).toEqual(totals[type]);
      }
    },
  );
});
