/**
 * Cluster mode against a real three-master Redis Cluster (three redis-server processes, slots
 * split in three): every type's keys share one slot through the hash tag, batches are atomic per
 * type, recovery and queries work across nodes.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisMonitor, SEED_TYPES } from '../helpers/monitor.js';
import calculateSlot from 'cluster-key-slot';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor, type TestRedis } from '../helpers/redis-server.js';

let cluster: TestCluster;
let nodes: TestRedis[] = [];

beforeAll(async () => {
  cluster = await startCluster([
    '--cluster-node-timeout',
    '1000',
    '--cluster-require-full-coverage',
    'no',
  ]);
  nodes = cluster.nodes;
});
afterAll(async () => {
  await cluster.stop();
});

describe('Redis Cluster persistence', () => {
  it('writes every type atomically on its own slot, recovers, and answers queries from the cluster', async () => {
    const clusterNodes = nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
    const keyPrefix = 'cm_cluster';
    const m1 = redisMonitor(`redis://127.0.0.1:${nodes[0]?.port}`, { clusterNodes, keyPrefix });
    const counts: Record<string, number> = {};
    try {
      await m1.start();
      expect(m1.getStatus().persistence).toMatchObject({ mode: 'cluster', circuit: 'closed' });
      SEED_TYPES.forEach((t, i) => (counts[t] = 20 + i * 11));
      for (const t of SEED_TYPES) {
        for (let i = 0; i < (counts[t] as number); i++) {
          m1.recordEvent(t, { kind: i % 5 === 0 ? 'error' : 'response', durationMs: i });
        }
      }
      await m1.flush();
    } finally {
      await m1.close();
    }

    const check = new Cluster(clusterNodes);
    try {
      const slots = new Set<number>();
      for (const t of SEED_TYPES) {
        expect(await check.zcard(`${keyPrefix}:{${t}}:events`)).toBe(counts[t]);
        expect(await check.hget(`${keyPrefix}:{${t}}:stats`, 'events')).toBe(String(counts[t]));
        slots.add(Number(await check.cluster('KEYSLOT', `${keyPrefix}:{${t}}:events`)));
        expect(await check.cluster('KEYSLOT', `${keyPrefix}:{${t}}:rollups`)).toBe(
          await check.cluster('KEYSLOT', `${keyPrefix}:{${t}}:events`),
        );
      }
      expect(slots.size).toBe(SEED_TYPES.length);
    } finally {
      check.disconnect();
    }

    const m2 = redisMonitor(`redis://127.0.0.1:${nodes[0]?.port}`, { clusterNodes, keyPrefix });
    try {
      await m2.start();
      expect(m2.getTypes()).toEqual([...SEED_TYPES].sort());
      for (const t of SEED_TYPES) {
        expect(m2.getStats(t)?.events).toBe(counts[t]);
        expect(m2.getRecentEvents(t, 1000)).toHaveLength(counts[t] as number);
      }
      const page = await m2.getHistoricalData({ type: 'kimi', limit: 10 });
      expect(page.source).toBe('redis');
      expect(page.events).toHaveLength(10);
      const series = await m2.getTimeSeriesData({});
      expect(series.source).toBe('redis');
      expect(series.points.reduce((n, p) => n + p.events, 0)).toBe(
        Object.values(counts).reduce((a, b) => a + b, 0),
      );
    } finally {
      await m2.close();
    }
  });

  it('a dead master stops only the types whose slots it serves; they are written when it returns', async () => {
    const keyPrefix = 'cm_dead';
    const types = Array.from({ length: 13 }, (_, i) => `type-${i}`);
    const dead = nodes[1] as TestRedis;
    const onDead = (t: string) =>
      cluster.nodeOfSlot(calculateSlot(`${keyPrefix}:{${t}}:events`)) === dead;
    expect(types.filter(onDead).length).toBeGreaterThan(0);
    expect(types.filter((t) => !onDead(t)).length).toBeGreaterThan(0);
    const m = redisMonitor(`redis://127.0.0.1:${nodes[0]?.port}`, {
      clusterNodes: cluster.clusterNodes,
      keyPrefix,
      maxQueueSize: 10_000,
      breakerFailures: 2,
      breakerResetMs: 500,
    });
    try {
      await m.start();
      for (const t of types) m.recordEvent(t, { kind: 'response', durationMs: 1 });
      await m.flush();
      await dead.kill();
      for (let round = 0; round < 3; round++) {
        for (const t of types) for (let i = 0; i < 10; i++) m.recordEvent(t, { kind: 'response' });
        await m.flush().catch(() => undefined);
      }
      const check = new Cluster(cluster.clusterNodes, { enableOfflineQueue: false });
      try {
        await waitFor(() => check.status === 'ready', 10_000, 20, 'checking client ready');
        for (const t of types.filter((x) => !onDead(x))) {
          expect(await check.zcard(`${keyPrefix}:{${t}}:events`), t).toBe(31);
        }
      } finally {
        check.disconnect();
      }
      const p = m.getStatus().persistence;
      const deadShard = p.shards.find((s) => s.shard === `127.0.0.1:${dead.port}`);
      expect(deadShard?.circuit).not.toBe('closed'); // open, or half-open between probes
      expect(deadShard?.queueDepth).toBe(30 * types.filter(onDead).length);
      expect(
        p.shards.filter((s) => s.shard !== deadShard?.shard).every((s) => s.circuit === 'closed'),
      ).toBe(true);
      expect(p.problems).toEqual([]);
      expect(p.rejected).toBe(0);
      // The master returns (same port, same node id from its nodes.conf): the held batches go.
      await dead.restart();
      await waitFor(
        async () => {
          await m.flush().catch(() => undefined);
          return m.getStatus().persistence.queueDepth === 0;
        },
        20_000,
        100,
        'held batches written after the master returned',
      );
      const after = new Cluster(cluster.clusterNodes);
      try {
        // The restarted master kept nothing on disk: its types hold what was written after it
        // came back (the three held rounds), the others everything.
        for (const t of types) {
          expect(await after.zcard(`${keyPrefix}:{${t}}:events`), t).toBe(onDead(t) ? 30 : 31);
        }
      } finally {
        after.disconnect();
      }
    } finally {
      await m.close();
    }
  });
});
