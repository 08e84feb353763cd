/** The service around a Redis-backed monitor: status, metrics and queries while Redis comes and goes. */
import { waitUntil } from '../helpers/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { monitorWebSocketServer } from '../../src/instrument/ws.js';
import { capturingLogger, redisMonitor } from '../helpers/monitor.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startServer } from './helpers.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ args: ['--requirepass', 'svc-secret-pw'], password: 'svc-secret-pw' });
});
afterAll(async () => {
  await redis.stop();
});

async function json(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe('service with Redis persistence', () => {
  it('reports persistence in /api/status and /metrics, answers queries from Redis, then from memory while Redis is down', async () => {
    const logger = capturingLogger();
    const monitor = redisMonitor(redis.url, { breakerFailures: 2, breakerResetMs: 300, logger });
    await monitor.start();
    const service = await startServer({}, {}, { monitor });
    const { url } = service;
    try {
      for (let i = 0; i < 40; i++) monitor.recordEvent('glm', { kind: 'response', durationMs: i });
      await monitor.flush();
      const status = (await json(`${url}/api/status`)) as { persistence: Record<string, unknown> };
      expect(status.persistence).toMatchObject({
        enabled: true,
        mode: 'redis',
        circuit: 'closed',
        persisted: 40,
        recovered: true,
      });
      expect(status.persistence.redisUrl).toBe(`redis://:***@127.0.0.1:${redis.port}`);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(gauge(metrics, 'connection_monitor_persisted_events')).toBe(40);
      expect(gauge(metrics, 'connection_monitor_circuit_state')).toBe(0);
      const events = (await json(`${url}/api/events?type=glm&limit=5`)) as {
        source: string;
        events: unknown[];
      };
      expect(events.source).toBe('redis');
      expect(events.events).toHaveLength(5);

      await redis.kill();
      monitor.recordEvent('glm', { kind: 'request' });
      await waitUntil(
        async () => {
          const s = (await json(`${url}/api/status`)) as { persistence: { circuit: string } };
          return s.persistence.circuit === 'open';
        },
        'circuit open in /api/status',
        { timeoutMs: 5_000, intervalMs: 20 },
      );
      const down = await (await fetch(`${url}/metrics`)).text();
      expect(gauge(down, 'connection_monitor_circuit_state')).toBe(2);
      expect(gauge(down, 'connection_monitor_queue_depth')).toBe(1);
      const fallback = (await json(`${url}/api/timeseries?type=glm&bucket=1m`)) as {
        source: string;
        points: { events: number }[];
      };
      expect(fallback.source).toBe('memory');
      expect(fallback.points.reduce((n, p) => n + p.events, 0)).toBe(41);

      await redis.restart();
      await waitUntil(
        async () => {
          const s = (await json(`${url}/api/status`)) as {
            persistence: { circuit: string; queueDepth: number };
          };
          return s.persistence.circuit === 'closed' && s.persistence.queueDepth === 0;
        },
        'circuit closed and queue written',
        { timeoutMs: 5_000, intervalMs: 20 },
      );
      const all = JSON.stringify([await json(`${url}/api/status`), down, logger.lines]);
      expect(all).not.toContain('svc-secret-pw');
    } finally {
      await service.close();
      await monitor.close();
    }
  });

  it('the service’s own WebSocket server is refused by monitorWebSocketServer (no feedback loop)', async () => {
    const logger = capturingLogger();
    const monitor = redisMonitor(redis.url, { logger });
    const service = await startServer({}, {}, { monitor });
    const { url } = service;
    try {
      const dispose = monitorWebSocketServer(service.server.app.websocketServer, monitor);
      expect(logger.lines.some((l) => l.startsWith('warn'))).toBe(true);
      // A real connection to /ws and back: an attached adapter would record connect/disconnect.
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      ws.send(JSON.stringify({ type: 'status', id: 1 }));
      await new Promise((resolve) => ws.once('message', resolve));
      ws.close();
      await new Promise((resolve) => ws.once('close', resolve));
      monitor.recordEvent('marker', { kind: 'done' });
      expect(monitor.getTypes()).toEqual(['marker']);
      dispose();
    } finally {
      await service.close();
      await monitor.close();
    }
  });
});
