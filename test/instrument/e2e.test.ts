/**
 * End to end: all five types, recorded by the adapters from real peers (a ws server and clients,
 * an application Redis client, fetch to local Kimi/GLM/Supabase stand-ins), flow through one
 * monitor into Redis and come back out of the service's `/api/timeseries` — served by a second
 * monitor on the same key prefix, so the counts come from Redis, not from the first one's memory.
 * Instrumenting a Redis client on the same server as the persistence never records the
 * persistence's own commands (no feedback), and the persistence client itself is refused.
 */
import { once } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Redis } from 'ioredis';
import { WebSocket, WebSocketServer } from 'ws';
import { createMonitoringServer } from '../../src/server/app.js';
import { createRedisClient } from '../../src/persistence/client.js';
import { monitorHttp } from '../../src/instrument/http.js';
import { monitorRedisClient } from '../../src/instrument/redis.js';
import { monitorWebSocketServer } from '../../src/instrument/ws.js';
import { closeAfterTest, disposeAfterTest } from '../helpers/after-test.js';
import { capturingLogger, redisMonitor, SEED_TYPES } from '../helpers/monitor.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { startFakePeers, type FakePeers } from './http-peers.js';

let redis: TestRedis;
let peers: FakePeers;

beforeAll(async () => {
  [redis, peers] = await Promise.all([startRedis(), startFakePeers()]);
});
afterAll(async () => {
  await Promise.all([redis.stop(), peers.close()]);
});

describe('adapters → one monitor → Redis → the service’s /api/timeseries', () => {
  it('all five types reach Redis and come back out of /api/timeseries with the right counts, without feedback', async () => {
    const keyPrefix = `cm_flow_${Math.random().toString(36).slice(2, 8)}`;
    const monitor = closeAfterTest(redisMonitor(redis.url, { keyPrefix }));
    await monitor.start();
    const from = Date.now() - 60_000;

    // WebSocket: two clients, three echoed messages each, normal close → 2 connect + 2 disconnect.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
    disposeAfterTest(monitorWebSocketServer(wss, monitor, { pingIntervalMs: 0 }));
    const address = wss.address();
    const wsUrl = `ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    for (let c = 0; c < 2; c++) {
      const ws = new WebSocket(wsUrl);
      await once(ws, 'open');
      let echoes = 0;
      ws.on('message', () => echoes++);
      for (let i = 0; i < 3; i++) ws.send(`m${i}`);
      await waitUntil(() => echoes === 3, 'echoes');
      ws.close(1000);
      await once(ws, 'close');
    }

    // Redis: an application client on the same server as the persistence.
    // connect + ready + 5 × (request + response) + close + disconnect = 14.
    const app = new Redis(redis.url, { lazyConnect: true });
    app.on('error', () => {});
    disposeAfterTest(monitorRedisClient(app, monitor));
    await app.connect();
    for (let i = 0; i < 5; i++) await app.set(`app:${i}`, String(i));
    app.disconnect();
    await waitUntil(() => app.status === 'end', 'the app client to end');

    // HTTP: kimi 3 × 200 (6 events), glm 2 × 429 (4, 2 errors), supabase 200 + 500 (4, 1 error).
    disposeAfterTest(monitorHttp(monitor, { routes: peers.routes() }));
    const get = async (url: string) => (await fetch(url)).text();
    for (let i = 0; i < 3; i++) await get(`${peers.kimi.url}/v1/chat/completions`);
    for (let i = 0; i < 2; i++) await get(`${peers.glm.url}/status/429`);
    await get(`${peers.supabase.url}/rest/v1/items`);
    await get(`${peers.supabase.url}/status/500`);

    const expected: Record<string, { events: number; errors: number }> = {
      websocket: { events: 4, errors: 0 },
      redis: { events: 14, errors: 0 },
      kimi: { events: 6, errors: 0 },
      glm: { events: 4, errors: 2 },
      supabase: { events: 4, errors: 1 },
    };
    const live = () =>
      Object.fromEntries(
        SEED_TYPES.map((t) => {
          const s = monitor.getStats(t);
          return [t, { events: s?.events ?? 0, errors: s?.errors ?? 0 }];
        }),
      );
    await waitUntil(() => isDeepStrictEqual(live(), expected), 'every expected event');
    await monitor.flush();
    // Several more flush cycles: had the persistence's own commands been recorded under `redis`,
    // each flush would add events (and the next flush would write those, and so on).
    let flushes = 0;
    monitor.on('flushed', () => flushes++);
    for (let i = 0; i < 3; i++) {
      monitor.recordEvent('probe', { kind: 'tick' });
      await monitor.flush();
    }
    await waitUntil(() => flushes >= 3, 'three more flushes');
    expect(live()).toEqual(expected);

    // A second monitor on the same prefix, behind the service, answers from Redis.
    const reader = closeAfterTest(redisMonitor(redis.url, { keyPrefix }));
    await reader.start();
    const service = closeAfterTest(createMonitoringServer(reader, { port: 0 }));
    const base = await service.listen();
    const to = Date.now() + 60_000;
    for (const type of SEED_TYPES) {
      const res = await fetch(
        `${base}/api/timeseries?type=${type}&from=${from}&to=${to}&bucket=1m`,
      );
      expect(res.status, type).toBe(200);
      const series = (await res.json()) as {
        source: string;
        bucketMs: number;
        points: { events: number; errors: number }[];
      };
      expect(series.source, type).toBe('redis');
      expect(series.bucketMs).toBe(60_000);
      const sum = (k: 'events' | 'errors') => series.points.reduce((n, p) => n + p[k], 0);
      expect({ events: sum('events'), errors: sum('errors') }, type).toEqual(expected[type]);
    }
    // All types merged.
    const all = (await (
      await fetch(`${base}/api/timeseries?from=${from}&to=${to}&bucket=1m`)
    ).json()) as { points: { events: number }[] };
    const total = Object.values(expected).reduce((n, e) => n + e.events, 0) + 3; // + 3 probe ticks
    expect(all.points.reduce((n, p) => n + p.events, 0)).toBe(total);
  });

  it('refuses to instrument the client the persistence layer creates', async () => {
    const logger = capturingLogger();
    const monitor = closeAfterTest(redisMonitor(redis.url, { logger }));
    await monitor.start();
    const own = createRedisClient(monitor.options);
    onTestFinished(() => own.disconnect());
    const dispose = monitorRedisClient(own, monitor);
    dispose();
    expect(Object.hasOwn(own, 'sendCommand')).toBe(false);
    expect(logger.lines.filter((l) => l.includes('refusing to instrument'))).toHaveLength(1);
    await own.connect();
    await own.ping();
    expect(monitor.getTypes()).toEqual([]);
  });
});
