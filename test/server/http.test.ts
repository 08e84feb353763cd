import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

let t: TestServer;

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/api/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function json(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

function expectError(body: Record<string, unknown>, code: string, field?: string): void {
  const err = body.error as { code: string; message: string; field?: string };
  expect(err.code).toBe(code);
  expect(typeof err.message).toBe('string');
  expect(err.message).not.toMatch(/\n\s+at /); // never a stack trace
  if (field !== undefined) expect(err.field).toBe(field);
}

beforeAll(async () => {
  t = await startServer();
});
afterAll(async () => {
  await t.close();
});

describe('GET routes', () => {
  it('/healthz answers ok', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
  });

  it('/api/status has the monitor status plus version, instance and uptime', async () => {
    const body = await json(await fetch(`${t.url}/api/status`));
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.instance).toBe(t.monitor.options.instanceId);
    expect(typeof body.uptimeMs).toBe('number');
    expect(body.persistence).toMatchObject({ enabled: false, mode: 'memory', circuit: 'closed' });
    expect(body.server).toMatchObject({ auth: false, wsConnections: 0 });
  });

  it('/api/stats returns live stats of all types or one, 404 for an unseen type, 400 for a bad name', async () => {
    t.monitor.recordEvent('glm', { kind: 'response', durationMs: 40 });
    t.monitor.recordEvent('glm', { kind: 'error', error: 'HTTP 500', durationMs: 60 });
    const all = await json(await fetch(`${t.url}/api/stats`));
    expect(all.glm).toMatchObject({ type: 'glm', events: 2, errors: 1 });
    const one = await json(await fetch(`${t.url}/api/stats?type=glm`));
    expect(one).toMatchObject({ type: 'glm', events: 2, errors: 1, errorRate: 0.5 });
    const missing = await fetch(`${t.url}/api/stats?type=never`);
    expect(missing.status).toBe(404);
    expectError(await json(missing), 'CM_ERR_NOT_FOUND', 'type');
    const bad = await fetch(`${t.url}/api/stats?type=Not%20A%20Type`);
    expect(bad.status).toBe(400);
    expectError(await json(bad), 'CM_ERR_INVALID_QUERY', 'type');
  });

  it('/api/events pages history newest first with nextBefore, and filters kind and errors', async () => {
    const base = Date.now() - 60_000;
    for (let i = 0; i < 25; i++) {
      t.monitor.recordEvent('kimi', {
        kind: i % 5 === 0 ? 'timeout' : 'response',
        durationMs: i,
        timestamp: base + i,
      });
    }
    const first = await json(await fetch(`${t.url}/api/events?type=kimi&limit=10`));
    const events = first.events as { timestamp: number; kind: string }[];
    expect(events).toHaveLength(10);
    expect(events[0]?.timestamp).toBe(base + 24);
    expect(first).toMatchObject({ source: 'memory', clipped: false });
    expect(typeof first.nextBefore).toBe('string');
    const second = await json(
      await fetch(
        `${t.url}/api/events?type=kimi&limit=10&before=${encodeURIComponent(first.nextBefore as string)}`,
      ),
    );
    expect((second.events as { timestamp: number }[])[0]?.timestamp).toBe(base + 14);
    const timeouts = await json(await fetch(`${t.url}/api/events?type=kimi&kind=timeout`));
    expect((timeouts.events as unknown[]).length).toBe(5);
    const errors = await json(await fetch(`${t.url}/api/events?type=kimi&errorsOnly=true`));
    expect((errors.events as unknown[]).length).toBe(5);
    const iso = new Date(base + 20).toISOString();
    const ranged = await json(
      await fetch(`${t.url}/api/events?type=kimi&from=${iso}&to=${base + 22}`),
    );
    expect((ranged.events as { timestamp: number }[]).map((e) => e.timestamp)).toEqual([
      base + 22,
      base + 21,
      base + 20,
    ]);
  });

  it('/api/events rejects bad parameters with 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['', 'type'],
      ['type=kimi&limit=0', 'limit'],
      ['type=kimi&limit=1001', 'limit'],
      ['type=kimi&limit=abc', 'limit'],
      ['type=kimi&from=yesterday', 'from'],
      ['type=kimi&from=2000&to=1000', 'from'],
      ['type=kimi&before=nonsense', 'before'],
      ['type=kimi&kind=BAD', 'kind'],
      ['type=kimi&errorsOnly=maybe', 'errorsOnly'],
      ['type=kimi&type=glm', 'type'],
      ['type=kimi&limt=5', 'limt'],
    ];
    for (const [query, field] of cases) {
      const res = await fetch(`${t.url}/api/events?${query}`);
      expect(res.status, query).toBe(400);
      expectError(await json(res), 'CM_ERR_INVALID_QUERY', field);
    }
  });

  it('/api/timeseries returns aligned buckets and rejects bad buckets and too many points', async () => {
    const now = Date.now();
    t.monitor.recordEvent('supabase', { kind: 'response', durationMs: 10, timestamp: now - 1000 });
    const body = await json(
      await fetch(
        `${t.url}/api/timeseries?type=supabase&from=${now - 3_600_000}&to=${now}&bucket=5m`,
      ),
    );
    expect(body.bucketMs).toBe(300_000);
    const points = body.points as { t: number; events: number }[];
    expect(points.every((p) => p.t % 300_000 === 0)).toBe(true);
    expect(points.reduce((n, p) => n + p.events, 0)).toBe(1);
    const all = await json(await fetch(`${t.url}/api/timeseries?bucket=60000`));
    expect(all).toMatchObject({ bucketMs: 60_000, source: 'memory' });
    const bad = await fetch(`${t.url}/api/timeseries?bucket=7m`);
    expect(bad.status).toBe(400);
    expectError(await json(bad), 'CM_ERR_INVALID_QUERY', 'bucket');
  });

  it('GET / without a built dashboard answers 503 with a hint, unknown paths 404 JSON', async () => {
    const root = await fetch(`${t.url}/`);
    if (t.server.dashboardDir === null) {
      expect(root.status).toBe(503);
      expect(await root.text()).toContain('npm run build:dashboard');
    } else {
      expect(root.status).toBe(200);
    }
    const missing = await fetch(`${t.url}/api/nothing`);
    expect(missing.status).toBe(404);
    expectError(await json(missing), 'CM_ERR_NOT_FOUND');
    const plainWs = await fetch(`${t.url}/ws`);
    expect(plainWs.status).toBe(400);
    expectError(await json(plainWs), 'CM_ERR_BAD_REQUEST');
  });

  it('sends no CORS headers unless configured', async () => {
    const res = await fetch(`${t.url}/api/status`, { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('POST /api/events', () => {
  it('accepts one event and records it', async () => {
    const res = await post({
      type: 'ingest-one',
      kind: 'connect',
      durationMs: 3,
      metadata: { a: 1 },
    });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ accepted: 1, rejected: [] });
    const [event] = t.monitor.getRecentEvents('ingest-one', 1);
    expect(event).toMatchObject({
      type: 'ingest-one',
      kind: 'connect',
      durationMs: 3,
      metadata: { a: 1 },
    });
  });

  it('records the valid events of a mixed batch and reports each invalid one by index and field', async () => {
    const res = await post([
      { type: 'ingest-mixed', kind: 'response', durationMs: 5 },
      { type: 'Bad', kind: 'response' },
      { type: 'ingest-mixed', kind: 'response', durationMs: -1 },
      { type: 'ingest-mixed', kind: 'response', duration: 5 },
      'not an object',
      { type: 'ingest-mixed', kind: 'error', error: 'boom', timestamp: Date.now() - 5 },
      { type: 'ingest-mixed', kind: 'response', metadata: { nested: { no: true } } },
    ]);
    expect(res.status).toBe(202);
    const body = (await json(res)) as {
      accepted: number;
      rejected: { index: number; code: string; field: string; message: string }[];
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => [r.index, r.field])).toEqual([
      [1, 'type'],
      [2, 'durationMs'],
      [3, 'duration'],
      [4, 'event'],
      [6, 'metadata.nested'],
    ]);
    expect(body.rejected.every((r) => r.code === 'CM_ERR_INVALID_EVENT')).toBe(true);
    expect(t.monitor.getStats('ingest-mixed')).toMatchObject({ events: 2, errors: 1 });
  });

  it('answers 400 when no event is valid, and bad bodies with 400/413', async () => {
    const none = await post([{ type: 'x', kind: 'BAD' }]);
    expect(none.status).toBe(400);
    const body = await json(none);
    expectError(body, 'CM_ERR_INVALID_EVENT');
    expect(body).toMatchObject({ accepted: 0, rejected: [{ index: 0, field: 'kind' }] });

    const malformed = await post('{"type":');
    expect(malformed.status).toBe(400);
    expectError(await json(malformed), 'CM_ERR_BAD_REQUEST');
    const scalar = await post('42');
    expect(scalar.status).toBe(400);
    expectError(await json(scalar), 'CM_ERR_BAD_REQUEST', 'body');
    const empty = await post([]);
    expect(empty.status).toBe(400);
    const tooMany = await post(
      Array.from({ length: 1001 }, () => ({ type: 'x', kind: 'connect' })),
    );
    expect(tooMany.status).toBe(413);
    expectError(await json(tooMany), 'CM_ERR_PAYLOAD_TOO_LARGE');
    const huge = await post(
      JSON.stringify({ type: 'x', kind: 'connect', error: 'x'.repeat(2_000_000) }),
    );
    expect(huge.status).toBe(413);
    expectError(await json(huge), 'CM_ERR_PAYLOAD_TOO_LARGE');
    const text = await fetch(`${t.url}/api/events`, { method: 'POST', body: 'hello' });
    expect(text.status).toBe(400);
    expectError(await json(text), 'CM_ERR_BAD_REQUEST');
  });

  it('accepts a full batch of 1,000', async () => {
    const res = await post(
      Array.from({ length: 1000 }, (_, i) => ({
        type: 'ingest-batch',
        kind: 'response',
        durationMs: i,
      })),
    );
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ accepted: 1000, rejected: [] });
    expect(t.monitor.getStats('ingest-batch')?.events).toBe(1000);
  });
});

describe('limits and CORS options', () => {
  it('CORS allows only the configured origins and answers preflight', async () => {
    const s = await startServer({ cors: { origins: ['https://ops.example'] } });
    try {
      const ok = await fetch(`${s.url}/api/status`, { headers: { origin: 'https://ops.example' } });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://ops.example');
      const other = await fetch(`${s.url}/api/status`, {
        headers: { origin: 'https://evil.example' },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const pre = await fetch(`${s.url}/api/events`, {
        method: 'OPTIONS',
        headers: { origin: 'https://ops.example', 'access-control-request-method': 'POST' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://ops.example');
      expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
      // Another origin's preflight is not answered as one: no route takes OPTIONS.
      const foreign = await fetch(`${s.url}/api/events`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(foreign.status).toBe(404);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await s.close();
    }
  });

  it('enforces a configured body size, batch size and series point limit', async () => {
    const s = await startServer({ limits: { bodyBytes: 512, batchEvents: 2, seriesPoints: 10 } });
    try {
      const big = await fetch(`${s.url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'x', kind: 'connect', error: 'e'.repeat(600) }),
      });
      expect(big.status).toBe(413);
      const three = await fetch(`${s.url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([1, 2, 3].map(() => ({ type: 'x', kind: 'connect' }))),
      });
      expect(three.status).toBe(413);
      const series = await fetch(`${s.url}/api/timeseries?bucket=1m`);
      expect(series.status).toBe(400);
      expectError(await json(series), 'CM_ERR_INVALID_QUERY', 'bucket');
      const fine = await fetch(`${s.url}/api/timeseries?bucket=1h`);
      expect(fine.status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
