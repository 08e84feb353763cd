/**
 * The service's long-history API against a real Redis: notable events over HTTP and pushed over
 * WebSocket, the storage estimate in `/api/status`, and 6 h / 1 d series read from hour and day
 * rollups (events older than the minute retention).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../src/core/time-series.js';
import { closeAfterTest } from '../helpers/after-test.js';
import { redisMonitor } from '../helpers/monitor.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { TestClient, startServer } from './helpers.js';

const PASSWORD = 'long-secret-pw';
const TOKEN = 'long-history-token-123';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ args: ['--requirepass', PASSWORD], password: PASSWORD });
});
afterAll(async () => {
  await redis.stop();
});

const auth = { authorization: `Bearer ${TOKEN}` };

async function getJson(url: string, status = 200): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: auth });
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

/** A Redis-backed monitor (shared prefix `prefix`) served with a token. */
async function serve(instanceId: string, prefix: string, clock?: { now(): number }) {
  const monitor = closeAfterTest(
    redisMonitor(redis.url, { keyPrefix: prefix, instanceId, heartbeatMs: 100, clock }),
  );
  await monitor.start();
  const service = closeAfterTest(await startServer({ token: TOKEN }, {}, { monitor }));
  return { monitor, service };
}

const newPrefix = () => `cm_long_svc_${Math.random().toString(36).slice(2, 8)}`;

describe('notable events', () => {
  it('GET /api/notable answers the fleet’s notable events, filtered by type and time, newest first', async () => {
    const prefix = newPrefix();
    const { monitor: a, service } = await serve('svc-a', prefix);
    const b = closeAfterTest(redisMonitor(redis.url, { keyPrefix: prefix, instanceId: 'svc-b' }));
    await b.start();
    const t0 = Date.now() - 60_000;
    a.recordNotable({ kind: 'note', message: 'deploy 41', type: 'kimi', at: t0 });
    b.recordNotable({ kind: 'note', message: 'deploy 42', type: 'glm', at: t0 + 1_000 });
    b.recordNotable({ kind: 'alert', message: 'kimi slow', type: 'kimi', at: t0 + 2_000 });
    const notes = (m: Record<string, unknown>) =>
      (m.events as { message: string; kind: string; instance: string }[]).filter(
        (e) => e.kind !== 'instance',
      );
    // flush() writes the notable events too, b's included (read by a's service from Redis).
    await Promise.all([a.flush(), b.flush()]);
    const all = await getJson(`${service.url}/api/notable?from=${t0}`);
    expect(all.source).toBe('redis');
    expect(notes(all).map((e) => [e.message, e.instance])).toEqual([
      ['kimi slow', 'svc-b'],
      ['deploy 42', 'svc-b'],
      ['deploy 41', 'svc-a'],
    ]);
    const kimi = await getJson(`${service.url}/api/notable?type=kimi&from=${t0}`);
    expect(notes(kimi).map((e) => e.message)).toEqual(['kimi slow', 'deploy 41']);
    const one = await getJson(`${service.url}/api/notable?from=${t0}&to=${t0 + 1_500}&limit=1`);
    expect((one.events as { message: string }[]).map((e) => e.message)).toEqual(['deploy 42']);

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['type=Not-A-Name', 'type'],
      ['from=yesterday', 'from'],
      [`from=${t0}&to=${t0 - 1}`, 'from'],
      ['kind=note', 'kind'],
    ]) {
      const err = (await getJson(`${service.url}/api/notable?${query}`, 400)).error;
      expect(err, query).toMatchObject({ code: 'CM_ERR_INVALID_QUERY', field });
    }
  });

  it('WebSocket: a notable query, and each new notable event pushed to subscribers that want it', async () => {
    const { monitor, service } = await serve('svc-a', newPrefix());
    const url = `${service.wsUrl}?token=${TOKEN}`;
    const all = closeAfterTest(await TestClient.connect(url));
    const glmOnly = closeAfterTest(await TestClient.connect(url));
    const none = closeAfterTest(await TestClient.connect(url));
    await all.request({ type: 'subscribe', scope: 'fleet' });
    await glmOnly.request({ type: 'subscribe', types: ['glm'] });
    await none.request({ type: 'subscribe', notable: false });

    const kimi = monitor.recordNotable({ kind: 'note', message: 'kimi deploy', type: 'kimi' });
    const global = monitor.recordNotable({ kind: 'note', message: 'all hands' });
    const pushed = await all.waitFor(
      (m) => m.type === 'notable_event' && (m.event as { id: string }).id === global.id,
    );
    expect(pushed.event).toEqual(global);
    expect(all.messages.some((m) => (m.event as { id?: string })?.id === kimi.id)).toBe(true);
    // glmOnly gets the event of no type, not kimi's; none gets neither.
    await glmOnly.waitFor((m) => (m.event as { id?: string })?.id === global.id);
    expect(glmOnly.messages.some((m) => (m.event as { id?: string })?.id === kimi.id)).toBe(false);
    const marker = await none.request({ type: 'status' });
    expect(marker.type).toBe('status');
    expect(none.messages.some((m) => m.type === 'notable_event')).toBe(false);

    await monitor.flush();
    const answer = await all.request({ type: 'notable', connectionType: 'kimi', limit: 10 });
    expect(answer).toMatchObject({ type: 'notable', source: 'redis' });
    const ids = (answer.events as { id: string }[]).map((e) => e.id);
    expect(ids).toContain(kimi.id);
    expect(ids).toContain(global.id);
  });
});

describe('status', () => {
  it('/api/status and the WebSocket status answer carry the storage estimate, and no secret', async () => {
    const { monitor, service } = await serve('svc-a', newPrefix());
    for (let i = 0; i < 20; i++) monitor.recordEvent('kimi', { kind: 'response', durationMs: i });
    await monitor.flush();
    const status = await getJson(`${service.url}/api/status`);
    const storage = status.storage as {
      types: { type: string; rollups: number; bytesNow: { total: number } }[];
      totalBytesNow: number;
    };
    expect(storage.types.map((t) => t.type)).toEqual(['kimi']);
    expect(storage.types[0]?.rollups).toBeGreaterThanOrEqual(1);
    expect(storage.totalBytesNow).toBeGreaterThan(0);
    expect(storage.totalBytesNow).toBe(storage.types[0]?.bytesNow.total);
    const ws = closeAfterTest(await TestClient.connect(`${service.wsUrl}?token=${TOKEN}`));
    const answer = await ws.request({ type: 'status' });
    expect((answer.status as { storage: unknown }).storage).toEqual(storage);
    const text = JSON.stringify([status, answer]);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
  });

  it('storage is null without Redis', async () => {
    const service = closeAfterTest(await startServer());
    const res = await fetch(`${service.url}/api/status`);
    expect(((await res.json()) as { storage: unknown }).storage).toBeNull();
  });
});

describe('long series', () => {
  it('6h and 1d buckets are answered from hour and day rollups with their resolution, over more than rangeMs', async () => {
    const now = Date.now();
    let clockNow = now - 10 * DAY_MS;
    const clock = { now: () => clockNow };
    const { monitor, service } = await serve('svc-a', newPrefix(), clock);
    // 3 events a day for 10 days, written as they happen: all but the last day are older than
    // the minute retention (24 h), so only hour and day rollups still hold them.
    const perDay = new Map<number, number>();
    for (let d = 0; d < 10; d++) {
      for (let i = 0; i < 3; i++) {
        clockNow = now - (10 - d) * DAY_MS + i * HOUR_MS;
        const e = monitor.recordEvent('glm', { kind: 'response', durationMs: 5 });
        const day = e.timestamp - (e.timestamp % DAY_MS);
        perDay.set(day, (perDay.get(day) ?? 0) + 1);
      }
      await monitor.flush();
    }
    clockNow = now;
    monitor.recordEvent('glm', { kind: 'response', durationMs: 5 });
    await monitor.flush();
    const total = 31;

    const from = now - 12 * DAY_MS; // beyond the 7-day rangeMs, which bounds history only
    const sum = (s: Record<string, unknown>) =>
      (s.points as { events: number }[]).reduce((n, p) => n + p.events, 0);
    const daily = await getJson(`${service.url}/api/timeseries?type=glm&bucket=1d&from=${from}`);
    expect(daily).toMatchObject({ bucketMs: DAY_MS, resolution: 'day', source: 'redis' });
    expect(sum(daily)).toBe(total);
    for (const p of daily.points as { t: number; events: number }[]) {
      if (p.t < now - DAY_MS) expect(p.events, String(p.t)).toBe(perDay.get(p.t) ?? 0);
    }
    const sixHours = await getJson(`${service.url}/api/timeseries?type=glm&bucket=6h&from=${from}`);
    expect(sixHours).toMatchObject({ bucketMs: 6 * HOUR_MS, resolution: 'hour' });
    expect(sum(sixHours)).toBe(total);
    const hourly = await getJson(`${service.url}/api/timeseries?type=glm&bucket=1h&from=${from}`);
    expect(hourly).toMatchObject({ resolution: 'hour', clipped: false });
    expect(sum(hourly)).toBe(total);
    // Minute buckets reach back only the minute retention: the range is clipped to it.
    const clippedMinutes = await getJson(
      `${service.url}/api/timeseries?type=glm&bucket=15m&from=${from}`,
    );
    expect(clippedMinutes).toMatchObject({ resolution: 'minute', clipped: true });
    expect(sum(clippedMinutes)).toBeLessThan(total);

    const ws = closeAfterTest(await TestClient.connect(`${service.wsUrl}?token=${TOKEN}`));
    const viaWs = await ws.request({
      type: 'time_series',
      connectionType: 'glm',
      bucket: '1d',
      from,
    });
    expect(viaWs).toMatchObject({ resolution: 'day', bucketMs: DAY_MS });
    expect(sum(viaWs)).toBe(total);
  });
});
