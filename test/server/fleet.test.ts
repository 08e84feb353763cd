/**
 * The service's fleet API against a real Redis: two monitors share one Redis (same prefix), the
 * service runs around one of them, and HTTP and WebSocket clients ask for the fleet, for one
 * instance, and for the live tail of every instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionMonitor } from '../../src/monitor.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor } from '../helpers/monitor.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { TestClient, startServer, type Message, type TestServer } from './helpers.js';

const PASSWORD = 'fleet-secret-pw';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
});
afterAll(async () => {
  await redis.stop();
});

interface Fleet {
  a: ConnectionMonitor;
  b: ConnectionMonitor;
  service: TestServer;
}

/** Two started monitors on one prefix (`svc-a`, `svc-b`) and a service around `svc-a`. */
async function startFleet(): Promise<Fleet> {
  const keyPrefix = `cm_fleet_${Math.random().toString(36).slice(2, 8)}`;
  const options = { keyPrefix, heartbeatMs: 100 };
  const a = closeAfterTest(redisMonitor(redis.url, { ...options, instanceId: 'svc-a' }));
  const b = closeAfterTest(redisMonitor(redis.url, { ...options, instanceId: 'svc-b' }));
  await Promise.all([a.start(), b.start()]);
  const service = closeAfterTest(await startServer({ statsIntervalMs: 50 }, {}, { monitor: a }));
  return { a, b, service };
}

/** Records `count` events of `type` (every third an error), spread over the last minute. */
function record(m: ConnectionMonitor, type: string, count: number): void {
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    m.recordEvent(type, {
      kind: i % 3 === 0 ? 'error' : 'response',
      durationMs: 10 + i,
      timestamp: now - 30_000 + i,
    });
  }
}

async function getJson(url: string, status = 200): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

/** The `error` of a 400 answer. */
async function badRequest(url: string): Promise<{ code: string; field: string; message: string }> {
  return (await getJson(url, 400)).error as { code: string; field: string; message: string };
}

describe('fleet over HTTP', () => {
  it('/api/instances lists both instances; /api/stats?scope=fleet is their sum, the default scope this process', async () => {
    const { a, b, service } = await startFleet();
    record(a, 'kimi', 4);
    record(b, 'kimi', 7);
    record(b, 'glm', 2);
    await Promise.all([a.flush(), b.flush()]);
    await waitUntil(async () => {
      const { instances } = (await getJson(`${service.url}/api/instances`)) as {
        instances: { id: string; state: string; types: Record<string, { events: number }> }[];
      };
      return (
        instances.length === 2 &&
        instances.every((i) => i.state === 'alive') &&
        instances.find((i) => i.id === 'svc-b')?.types.kimi?.events === 7
      );
    }, 'both instances alive in /api/instances with their own numbers');

    const fleet = (await getJson(`${service.url}/api/stats?scope=fleet`)) as {
      stats: Record<string, { events: number; errors: number }>;
      source: string;
      instances: { id: string }[];
    };
    expect(fleet.source).toBe('redis');
    expect(fleet.stats.kimi).toMatchObject({ events: 11, errors: 2 + 3 });
    expect(fleet.stats.glm).toMatchObject({ events: 2, errors: 1 });
    expect(fleet.instances.map((i) => i.id).sort()).toEqual(['svc-a', 'svc-b']);
    const oneType = (await getJson(`${service.url}/api/stats?scope=fleet&type=kimi`)) as {
      stats: Record<string, { events: number }>;
    };
    expect(Object.keys(oneType.stats)).toEqual(['kimi']);
    expect(oneType.stats.kimi?.events).toBe(11);
    // This process's own, by default and by name.
    const own = (await getJson(`${service.url}/api/stats`)) as Record<string, { events: number }>;
    expect(Object.keys(own)).toEqual(['kimi']);
    expect(own.kimi?.events).toBe(4);
    expect(await getJson(`${service.url}/api/stats?scope=instance&type=kimi`)).toMatchObject({
      events: 4,
    });
  });

  it('instance= filters /api/events and /api/timeseries to that instance', async () => {
    const { a, b, service } = await startFleet();
    record(a, 'kimi', 4);
    record(b, 'kimi', 7);
    await Promise.all([a.flush(), b.flush()]);
    const q = `${service.url}/api/events?type=kimi&limit=100`;
    const all = (await getJson(q)) as { events: { instance: string }[]; source: string };
    expect(all.source).toBe('redis');
    expect(all.events).toHaveLength(11);
    const onlyB = (await getJson(`${q}&instance=svc-b`)) as { events: { instance: string }[] };
    expect(onlyB.events).toHaveLength(7);
    expect(new Set(onlyB.events.map((e) => e.instance))).toEqual(new Set(['svc-b']));
    const onlyA = (await getJson(`${q}&instance=svc-a`)) as { events: { instance: string }[] };
    expect(onlyA.events.map((e) => e.instance)).toEqual(Array(4).fill('svc-a'));

    const sum = (s: Record<string, unknown>) =>
      (s.points as { events: number }[]).reduce((n, p) => n + p.events, 0);
    const series = `${service.url}/api/timeseries?type=kimi&bucket=5m`;
    expect(sum(await getJson(series))).toBe(11);
    const seriesB = await getJson(`${series}&instance=svc-b`);
    expect(seriesB).toMatchObject({ source: 'redis', resolution: 'minute', bucketMs: 300_000 });
    expect(sum(seriesB)).toBe(7);
    expect(sum(await getJson(`${series}&instance=nobody`))).toBe(0);
  });

  it('answers 400 naming scope, instance and bucket', async () => {
    const { service } = await startFleet();
    const { url } = service;
    expect(await badRequest(`${url}/api/stats?scope=galaxy`)).toMatchObject({
      code: 'CM_ERR_INVALID_QUERY',
      field: 'scope',
    });
    for (const path of ['/api/events?type=kimi&', '/api/timeseries?']) {
      const err = await badRequest(`${url}${path}instance=${encodeURIComponent('bad id!')}`);
      expect(err).toMatchObject({ code: 'CM_ERR_INVALID_QUERY', field: 'instance' });
      expect(err.message).toContain('A-Z a-z 0-9 . _ -');
    }
    for (const bucket of ['2h', '7d', '120000']) {
      const err = await badRequest(`${url}/api/timeseries?type=kimi&bucket=${bucket}`);
      expect(err).toMatchObject({ code: 'CM_ERR_INVALID_QUERY', field: 'bucket' });
      expect(err.message).toContain('1m, 5m, 15m, 1h, 6h, 1d');
    }
    expect(await badRequest(`${url}/api/instances?bogus=1`)).toMatchObject({ field: 'bogus' });
  });
});

describe('fleet over WebSocket', () => {
  it('instances, and instance= on historical and time_series', async () => {
    const { a, b, service } = await startFleet();
    record(a, 'glm', 3);
    record(b, 'glm', 5);
    await Promise.all([a.flush(), b.flush()]);
    const c = closeAfterTest(await TestClient.connect(service.wsUrl));
    await waitUntil(async () => {
      const m = await c.request({ type: 'instances' });
      return (m.instances as { id: string }[]).length === 2;
    }, 'instances answer with both');
    const hist = await c.request({ type: 'historical', connectionType: 'glm', instance: 'svc-b' });
    expect(hist).toMatchObject({ type: 'historical', source: 'redis' });
    const events = hist.events as { instance: string }[];
    expect(events.map((e) => e.instance)).toEqual(Array(5).fill('svc-b'));
    const series = await c.request({
      type: 'time_series',
      connectionType: 'glm',
      bucket: '15m',
      instance: 'svc-a',
    });
    expect(series).toMatchObject({ type: 'time_series', bucketMs: 900_000, resolution: 'minute' });
    expect((series.points as { events: number }[]).reduce((n, p) => n + p.events, 0)).toBe(3);
  });

  it('answers bad scope, instance and bucket with an error naming the field; the connection stays open', async () => {
    const { service } = await startFleet();
    const c = closeAfterTest(await TestClient.connect(service.wsUrl));
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'subscribe', scope: 'galaxy' }, 'scope'],
      [{ type: 'historical', connectionType: 'glm', instance: 'no spaces' }, 'instance'],
      [{ type: 'time_series', instance: 'x'.repeat(65) }, 'instance'],
      [{ type: 'time_series', bucket: '2h' }, 'bucket'],
      [{ type: 'notable', limit: 0 }, 'limit'],
      [{ type: 'subscribe', notable: 'yes' }, 'notable'],
    ];
    for (const [message, field] of cases) {
      const m = await c.request(message);
      expect(m, JSON.stringify(message)).toMatchObject({ type: 'error', field });
    }
    expect((await c.request({ type: 'instances' })).type).toBe('instances');
  });

  it('a fleet subscription streams every instance’s events and pushes fleet stats; an instance one only this process’s', async () => {
    const { a, b, service } = await startFleet();
    record(b, 'kimi', 2);
    await b.flush();
    const fleetClient = closeAfterTest(await TestClient.connect(service.wsUrl));
    const ownClient = closeAfterTest(await TestClient.connect(service.wsUrl));
    const ok = await fleetClient.request({ type: 'subscribe', scope: 'fleet' });
    expect(ok).toMatchObject({ type: 'subscribe', ok: true, scope: 'fleet' });
    expect(await ownClient.request({ type: 'subscribe' })).toMatchObject({ scope: 'instance' });
    const first = await fleetClient.waitFor((m) => m.type === 'stats');
    expect(first).toMatchObject({ scope: 'fleet', source: 'redis', dropped: 0 });
    expect((first.stats as Record<string, { events: number }>).kimi?.events).toBe(2);
    expect(first.status).toMatchObject({ instance: 'svc-a' });

    // B learns within a heartbeat that the tail has a listener; until then it publishes nothing.
    let n = 0;
    const fromB = (m: Message) =>
      m.type === 'event' && (m.event as { instance: string }).instance === 'svc-b';
    await waitUntil(
      () => {
        b.recordEvent('kimi', { kind: 'response', metadata: { n: n++ } });
        return fleetClient.messages.some(fromB);
      },
      'an event of svc-b on the fleet tail',
      { intervalMs: 50 },
    );
    const fromA = a.recordEvent('glm', { kind: 'connect' });
    const seenA = await fleetClient.waitFor(
      (m) => m.type === 'event' && (m.event as { id: string }).id === fromA.id,
    );
    expect(seenA.event).toMatchObject({ instance: 'svc-a', type: 'glm' });
    // The fleet's stats follow: B's events are in the pushed totals.
    const pushed = await fleetClient.waitFor(
      (m) =>
        m.type === 'stats' &&
        ((m.stats as Record<string, { events: number }>).kimi?.events ?? 0) > 2,
    );
    expect(pushed.scope).toBe('fleet');
    // The instance scope: this process's events only, its own stats.
    await ownClient.waitFor(
      (m) => m.type === 'event' && (m.event as { id: string }).id === fromA.id,
    );
    expect(ownClient.messages.some(fromB)).toBe(false);
    const ownStats = ownClient.messages.filter((m) => m.type === 'stats');
    expect(ownStats.every((m) => m.scope === 'instance')).toBe(true);
    expect(ownStats.at(-1)?.stats).not.toHaveProperty('kimi');
  });
});
