import { waitUntil } from '../helpers/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../../src/demo/index.js';
import { silentLogger } from '../../src/logger.js';
import { ConnectionMonitor } from '../../src/monitor.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis-server.js';

const TYPES = ['glm', 'kimi', 'redis', 'supabase', 'websocket'];
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const sockets = () =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap')
    .length;

describe('demo traffic', () => {
  it('produces events for all five types within seconds, with real Redis commands', async () => {
    const baseline = sockets();
    const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
    await monitor.start();
    const demo = await startDemo(monitor, { redisUrl: redis.url });
    expect(demo.isRedisReachable).toBe(true);
    try {
      await waitUntil(
        () => TYPES.every((t) => (monitor.getStats(t)?.events ?? 0) >= 3),
        'events of all five types',
        { timeoutMs: 10_000 },
      );
      const stats = monitor.getStats();
      expect(Object.keys(stats).sort()).toEqual(TYPES);
      expect(stats.redis?.kinds.response).toBeGreaterThan(0);
      expect(stats.websocket?.kinds.connect).toBeGreaterThan(0);
      // The commands really reached this Redis.
      expect(Number(await redis.cli('DBSIZE'))).toBeGreaterThan(0);
      const recent = monitor.getRecentEvents('glm', 5);
      expect(recent.every((e) => typeof e.durationMs === 'number')).toBe(true);
    } finally {
      await demo.close();
      await monitor.close();
    }
    await waitUntil(() => sockets() <= baseline, 'demo sockets and servers closed', {
      timeoutMs: 5_000,
    });
  });

  it('without a reachable Redis records redis connection errors and keeps the other types going', async () => {
    const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
    await monitor.start();
    const demo = await startDemo(monitor, { redisUrl: `redis://127.0.0.1:${await freePort()}` });
    try {
      expect(demo.isRedisReachable).toBe(false);
      await waitUntil(
        () =>
          ['glm', 'kimi', 'supabase', 'websocket'].every(
            (t) => (monitor.getStats(t)?.events ?? 0) > 0,
          ),
        'events of the other four types',
        { timeoutMs: 10_000 },
      );
      const redisStats = monitor.getStats('redis');
      expect(redisStats?.errors).toBeGreaterThan(0);
      expect(redisStats?.kinds.response).toBeUndefined();
    } finally {
      await demo.close();
      await monitor.close();
    }
  });
});
