/**
 * Cluster mode against a real three-master Redis Cluster (three redis-server processes, slots
 * split in three): every type's keys share one slot through the hash tag, batches are atomic per
 * type, recovery and queries work across nodes.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor, SEED_TYPES } from '../helpers/monitor.js';
import calculateSlot from 'cluster-key-slot';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import type { TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

let cluster: TestRedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster(3, [
    '--cluster-node-timeout',
    '1000',
    '--cluster-require-full-coverage',
    'no',
  ]);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('Redis Cluster persistence', () => {
  it('writes every type atomically on its own slot, recovers, and answers queries from the cluster', async () => {
    const clusterNodes = cluster.startupNodes;
    const url = `redis://127.0.0.1:${cluster.nodes[0]?.port}`;
    const keyPrefix = 'cm_cluster';
    const m1 = closeAfterTest(redisMonitor(url, { clusterNodes, keyPrefix }));
    const counts: Record<string, number> = {};
    await m1.start();
    expect(m1.getStatus().persistence).toMatchObject({ mode: 'cluster', circuit: 'closed' });
    SEED_TYPES.forEach((t, i) => (counts[t] = 20 + i * 11));
    for (const t of SEED_TYPES) {
      for (let i = 0; i < (counts[t] as number); i++) {
        m1.recordEvent(t, { kind: i % 5 === 0 ? 'error' : 'response', durationMs: i });
      }
    }
    await m1.flush();
    await m1.close();

    const check = new Cluster(clusterNodes);
    onTestFinished(() => check.disconnect());
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

    const m2 = closeAfterTest(redisMonitor(url, { clusterNodes, keyPrefix }));
    await m2.start();
    expect(m2.getTypes()).toEqual([...SEED_TYPES].sort());
    for (const t of SEED_TYPES) {
      expect((await m2.getFleetStats(t)).stats[t]?.events).toBe(counts[t]);
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
  });

  it('a dead master stops only the types whose slots it serves; they are written when it returns', async () => {
    const keyPrefix = 'cm_dead';
    const types = Array.from({ length: 13 }, (_, i) => `type-${i}`);
    const dead = cluster.nodes[1] as TestRedis;
    const onDead = (t: string) =>
      cluster.nodeOfSlot(calculateSlot(`${keyPrefix}:{${t}}:events`)) === dead;
    expect(types.filter(onDead).length).toBeGreaterThan(0);
    expect(types.filter((t) => !onDead(t)).length).toBeGreaterThan(0);
    const m = closeAfterTest(
      redisMonitor(`redis://127.0.0.1:${cluster.nodes[0]?.port}`, {
        clusterNodes: cluster.startupNodes,
        keyPrefix,
        maxQueueSize: 10_000,
        breakerFailures: 2,
        breakerResetMs: 500,
      }),
    );
    await m.start();
    for (const t of types) m.recordEvent(t, { kind: 'response', durationMs: 1 });
    await m.flush();
    await dead.kill();
    for (let round = 0; round < 3; round++) {
      for (const t of types) for (let i = 0; i < 10; i++) m.recordEvent(t, { kind: 'response' });
      await m.flush().catch(() => undefined);
    }
    const check = new Cluster(cluster.startupNodes, { enableOfflineQueue: false });
    onTestFinished(() => check.disconnect());
    await waitUntil(() => check.status === 'ready', 'checking client ready', { timeoutMs: 10_000 });
    for (const t of types.filter((x) => !onDead(x))) {
      expect(await check.zcard(`${keyPrefix}:{${t}}:events`), t).toBe(31);
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
    await waitUntil(
      async () => {
        await m.flush().catch(() => undefined);
        return m.getStatus().persistence.queueDepth === 0;
      },
      'held batches written after the master returned',
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    // The restarted master kept nothing on disk: its types hold what was written after it came
    // back (the three held rounds), the others everything.
    for (const t of types) {
      expect(await check.zcard(`${keyPrefix}:{${t}}:events`), t).toBe(onDead(t) ? 30 : 31);
    }
  });
});
