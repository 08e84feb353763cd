/**
 * Cluster mode against a real three-master Redis Cluster (three redis-server processes, slots
 * split in three): every type's keys share one slot through the hash tag, batches are atomic per
 * type, recovery and queries work across nodes.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor, SEED_TYPES } from '../helpers/monitor.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

let cluster: TestRedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
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
  });
});
