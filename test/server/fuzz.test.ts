/**
 * Fuzz: 10,000 random and malformed WebSocket messages and HTTP requests (fast-check, fixed
 * seed). The server must stay up, answer every message exactly once with well-formed JSON, never
 * answer 5xx, and keep its heap bounded.
 */
import { waitUntil } from '../helpers/wait.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, startServer, type TestServer } from './helpers.js';

const SEED = 20261126;
const WS_MESSAGES = 8_000;
const HTTP_REQUESTS = 2_000;

let t: TestServer;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1_048_576;
};

const anyValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer({ min: -1e15, max: 1e16 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('1m', '5m', '15m', '1h', '60000', '2026-11-26T00:00:00Z', 'glm', 'error', '0'),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

const message = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom('historical', 'time_series', 'status', 'subscribe', 'unsubscribe'),
      fc.string({ maxLength: 20 }),
      anyValue,
    ),
    id: fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), anyValue),
    connectionType: fc.oneof(fc.constantFrom('glm', 'redis', 'fuzz'), anyValue),
    from: anyValue,
    to: anyValue,
    limit: fc.oneof(fc.integer({ min: -5, max: 2000 }), anyValue),
    before: anyValue,
    bucket: anyValue,
    kind: anyValue,
    errorsOnly: anyValue,
    types: fc.oneof(fc.array(fc.constantFrom('glm', 'redis', 'BAD'), { maxLength: 3 }), anyValue),
  },
  { requiredKeys: [] },
);

/** One WebSocket frame: valid-ish JSON, arbitrary JSON, garbage text, cut JSON, binary, oversized. */
const wsFrame: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 6, arbitrary: message.map((m) => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 2, arbitrary: fc.string({ maxLength: 100 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(message, fc.nat()).map(([m, n]) => {
      const s = JSON.stringify(m);
      return s.slice(0, n % (s.length + 1));
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constant('{"type":"status","pad":"' + 'x'.repeat(70_000) + '"}') },
);

const PATHS = ['/api/status', '/api/stats', '/api/events', '/api/timeseries', '/healthz', '/ws'];

const httpRequest = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'),
  path: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...PATHS) },
    {
      weight: 1,
      arbitrary: fc.webPath().filter((p) => p !== '' && p !== '/' && !p.startsWith('/metrics')),
    },
  ),
  query: fc.dictionary(
    fc.constantFrom('type', 'from', 'to', 'limit', 'before', 'kind', 'errorsOnly', 'bucket', 'x'),
    fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('glm', '1m', '10', 'true', '2026-01-01'),
    ),
    { maxKeys: 5 },
  ),
  body: fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    fc
      .array(
        fc.record(
          {
            type: fc.oneof(fc.constantFrom('glm', 'fuzz'), fc.string({ maxLength: 10 })),
            kind: fc.oneof(fc.constantFrom('response', 'error'), fc.string({ maxLength: 10 })),
            durationMs: fc.oneof(fc.double(), fc.integer()),
            metadata: fc.dictionary(fc.string({ maxLength: 10 }), anyValue, { maxKeys: 4 }),
            timestamp: fc.oneof(fc.integer({ min: -1, max: 2 ** 53 }), anyValue),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 20 },
      )
      .map((a) => JSON.stringify(a)),
    fc.string({ maxLength: 50 }),
  ),
});

beforeAll(async () => {
  t = await startServer({ limits: { wsMessagesPerSecond: 1_000_000 }, statsIntervalMs: 100 });
});
afterAll(async () => {
  await t.close();
});

describe('fuzz', () => {
  it('survives 8,000 random WebSocket messages: one well-formed answer each, connections stay open', async () => {
    const frames = fc.sample(wsFrame, { seed: SEED, numRuns: WS_MESSAGES });
    const clients = await Promise.all([1, 2, 3, 4].map(() => TestClient.connect(t.wsUrl)));
    const heapBefore = heapMb();
    frames.forEach((f, i) => clients[i % clients.length]?.send(f));
    // Each frame gets exactly one answer (a reply or an error); event and stats messages are extra.
    const answers = (c: TestClient) =>
      c.messages.filter((m) => m.type !== 'event' && m.type !== 'stats').length;
    const expected = clients.map(
      (_, k) => frames.filter((_, i) => i % clients.length === k).length,
    );
    await waitUntil(
      () => clients.every((c, k) => answers(c) >= (expected[k] as number)),
      'an answer to every fuzz message',
      { timeoutMs: 30_000 },
    );
    for (const [k, c] of clients.entries()) {
      expect(c.malformed).toEqual([]);
      expect(answers(c)).toBe(expected[k]);
      expect(c.closeCode).toBeUndefined();
      for (const m of c.messages) {
        if (m.type === 'error') {
          expect(typeof m.code).toBe('string');
          expect(m.code).not.toBe('CM_ERR_INTERNAL');
          expect(typeof m.message).toBe('string');
        }
      }
      expect(await c.request({ type: 'status' })).toMatchObject({ type: 'status' });
    }
    const errors = clients.flatMap((c) => c.messages.filter((m) => m.type === 'error'));
    expect(errors.length).toBeGreaterThan(1000);
    expect(new Set(errors.map((e) => e.code))).toEqual(
      new Set(['CM_ERR_BAD_REQUEST', 'CM_ERR_INVALID_QUERY', 'CM_ERR_PAYLOAD_TOO_LARGE']),
    );
    await Promise.all(clients.map((c) => c.close()));
    expect(heapMb() - heapBefore).toBeLessThan(64);
  });

  it('survives 2,000 random HTTP requests: JSON answers, never a 5xx', async () => {
    const requests = fc.sample(httpRequest, { seed: SEED, numRuns: HTTP_REQUESTS });
    const heapBefore = heapMb();
    const statuses = new Map<number, number>();
    for (const r of requests) {
      const qs = new URLSearchParams(r.query).toString();
      const hasBody = r.method === 'POST' || r.method === 'PUT';
      const res = await fetch(`${t.url}${r.path}${qs === '' ? '' : `?${qs}`}`, {
        method: r.method,
        headers: hasBody ? { 'content-type': 'application/json' } : {},
        body: hasBody ? r.body : undefined,
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${r.method} ${r.path}?${qs}`).toBeLessThan(500);
      expect(res.headers.get('content-type'), `${r.method} ${r.path}`).toMatch(
        /^application\/json/,
      );
      const body = JSON.parse(text) as { error?: { code: string; message: string } };
      if (res.status >= 400) {
        expect(typeof body.error?.code).toBe('string');
        expect(body.error?.message).not.toMatch(/\n\s+at /);
      }
    }
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(statuses.get(404)).toBeGreaterThan(10);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect(heapMb() - heapBefore).toBeLessThan(64);
  });
});
