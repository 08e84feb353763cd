/**
 * Per-client rate limits of the HTTP API against a real server: ingestion counted in events
 * (`limits.ingestEventsPerSecond`, `limits.ingestBurst`), the request limit of the other routes
 * (`limits.requestsPerMinute`, @fastify/rate-limit), and the bound on clients remembered
 * (`limits.rateLimitClients`). Clients are told apart by their real source address: the whole of
 * 127.0.0.0/8 is loopback, so a request can leave from 127.0.0.2, 127.0.0.3, …
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One HTTP request from `from` (a loopback source address) with a JSON answer. */
function send(
  t: TestServer,
  method: 'GET' | 'POST',
  path: string,
  options: { from?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const url = new URL(path, t.url);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const events = (type: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ type, kind: 'response', durationMs: i }));

const post = (t: TestServer, type: string, n: number, from?: string) =>
  send(t, 'POST', '/api/events', { body: events(type, n), from });

function expectRateLimited(a: Answer, pattern: RegExp): number {
  expect(a.status).toBe(429);
  const err = a.body.error as { code: string; message: string };
  expect(err.code).toBe('CM_ERR_RATE_LIMITED');
  expect(err.message).toMatch(pattern);
  const retryAfter = a.headers['retry-after'];
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  return Number(retryAfter);
}

/** Value of an unlabelled sample in `/metrics`. */
async function metric(t: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no sample ${name}`);
  return Number(line.slice(name.length + 1));
}

describe('ingestion rate limit (events per second per client)', () => {
  it('answers 429 with Retry-After past the burst, records nothing of it, and other clients go on', async () => {
    const t = await startServer({
      limits: { ingestEventsPerSecond: 1, ingestBurst: 100, batchEvents: 100 },
    });
    try {
      expect((await post(t, 'flood', 100, '127.0.0.2')).status).toBe(202);
      const refused = await post(t, 'flood', 50, '127.0.0.2');
      // 50 more events at 1 per second: about 50 s.
      const retryAfter = expectRateLimited(refused, /1 event per second.*burst of 100/);
      expect(retryAfter).toBeGreaterThanOrEqual(45);
      expect(retryAfter).toBeLessThanOrEqual(50);
      expect(t.monitor.getStats('flood')?.events).toBe(100);
      expect(await metric(t, 'connection_monitor_ingest_rate_limited_events_total')).toBe(50);
      // Another client has its own budget.
      expect((await post(t, 'other', 100, '127.0.0.3')).status).toBe(202);
      expect(t.monitor.getStats('other')?.events).toBe(100);
      // Invalid events count too: they cost the same work.
      const bad = await send(t, 'POST', '/api/events', {
        body: [{ type: 'x', kind: 'BAD' }],
        from: '127.0.0.2',
      });
      expect(bad.status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('refuses a request that does not fit whole, so accepted data is never partial', async () => {
    const t = await startServer({
      limits: { ingestEventsPerSecond: 1, ingestBurst: 100, batchEvents: 100 },
    });
    try {
      expect((await post(t, 'partial', 95)).status).toBe(202);
      // 5 tokens left: 10 events do not fit; none of them is recorded and no token is spent.
      const retryAfter = expectRateLimited(await post(t, 'partial', 10), /did not fit/);
      expect(retryAfter).toBeGreaterThanOrEqual(4);
      expect(retryAfter).toBeLessThanOrEqual(5);
      expect(t.monitor.getStats('partial')?.events).toBe(95);
      expect((await post(t, 'partial', 5)).status).toBe(202);
      expect(t.monitor.getStats('partial')?.events).toBe(100);
      // A batch over batchEvents is still 413 (it could never be accepted), not 429.
      expect((await post(t, 'partial', 101)).status).toBe(413);
    } finally {
      await t.close();
    }
  });

  it('holds a flooding client to 10,000 events/s with a burst of 20,000 by default', async () => {
    const t = await startServer();
    try {
      // 40 concurrent POSTs of 1,000 events: twice the burst, bounded and on loopback only.
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => post(t, 'default-flood', 1_000)),
      );
      const elapsedS = (performance.now() - started) / 1000;
      const accepted = answers.filter((a) => a.status === 202).length * 1_000;
      expect(answers.every((a) => a.status === 202 || a.status === 429)).toBe(true);
      expect(accepted).toBeGreaterThanOrEqual(20_000);
      expect(accepted).toBeLessThanOrEqual(20_000 + Math.ceil(elapsedS * 10_000) + 1_000);
      expect(t.monitor.getStats('default-flood')?.events).toBe(accepted);
      const limited = answers.find((a) => a.status === 429);
      if (elapsedS < 1.9) expect(limited).toBeDefined();
      if (limited !== undefined) expectRateLimited(limited, /10000 events per second/);
    } finally {
      await t.close();
    }
  });

  it('tells clients apart by X-Forwarded-For only with trustProxy', async () => {
    const limits = { ingestEventsPerSecond: 1, ingestBurst: 10, batchEvents: 10 };
    const behindProxy = await startServer({ limits, trustProxy: true });
    const direct = await startServer({ limits });
    try {
      for (const t of [behindProxy, direct]) {
        const from = (ip: string) => ({
          body: events('xff', 10),
          headers: { 'x-forwarded-for': ip },
        });
        expect((await send(t, 'POST', '/api/events', from('127.0.9.1'))).status).toBe(202);
        const second = await send(t, 'POST', '/api/events', from('127.0.9.2'));
        // Behind a proxy each forwarded client has its own budget; without trustProxy the header
        // is ignored (a client cannot make up addresses to get new budgets).
        expect(second.status, String(t === behindProxy)).toBe(t === behindProxy ? 202 : 429);
      }
    } finally {
      await behindProxy.close();
      await direct.close();
    }
  });

  it('remembers at most rateLimitClients clients, forgetting the least recently seen', async () => {
    const t = await startServer({
      limits: { ingestEventsPerSecond: 1, ingestBurst: 10, batchEvents: 10, rateLimitClients: 2 },
    });
    const [a, b, c] = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    try {
      expect((await post(t, 'bound', 10, a)).status).toBe(202);
      expect((await post(t, 'bound', 1, a)).status).toBe(429);
      expect((await post(t, 'bound', 10, b)).status).toBe(202);
      // Two clients, both remembered: A is still limited (and now the most recently seen).
      expect((await post(t, 'bound', 1, a)).status).toBe(429);
      // A third client pushes out the least recently seen one, B, which starts again full…
      expect((await post(t, 'bound', 10, c)).status).toBe(202);
      expect((await post(t, 'bound', 10, b)).status).toBe(202);
      // …and B's return pushed out A, the least recently seen then: A starts again full too.
      expect((await post(t, 'bound', 10, a)).status).toBe(202);
      // B is remembered (and empty).
      expect((await post(t, 'bound', 1, b)).status).toBe(429);
    } finally {
      await t.close();
    }
  });
});

describe('request rate limit of the other routes (@fastify/rate-limit)', () => {
  it('answers 429 past requestsPerMinute per client; /healthz and ingestion are not counted', async () => {
    const t = await startServer({ limits: { requestsPerMinute: 5 } });
    try {
      for (let i = 0; i < 5; i++) {
        expect((await send(t, 'GET', '/api/status', { from: '127.0.0.2' })).status).toBe(200);
      }
      const limited = await send(t, 'GET', '/api/stats', { from: '127.0.0.2' });
      const retryAfter = expectRateLimited(limited, /5 requests per minute/);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await send(t, 'GET', '/healthz', { from: '127.0.0.2' })).status).toBe(200);
      expect((await post(t, 'still-ingesting', 3, '127.0.0.2')).status).toBe(202);
      expect((await send(t, 'GET', '/api/status', { from: '127.0.0.3' })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('counts requests before the token check, so guessing tokens is limited too', async () => {
    const t = await startServer({
      token: 'correct-horse-battery-staple',
      limits: { requestsPerMinute: 3 },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const guess = { authorization: `Bearer guess-number-${i}-xxxxxxx` };
        expect((await send(t, 'GET', '/api/status', { headers: guess })).status).toBe(401);
      }
      const right = { authorization: 'Bearer correct-horse-battery-staple' };
      expectRateLimited(await send(t, 'GET', '/api/status', { headers: right }), /3 requests/);
    } finally {
      await t.close();
    }
  });
});
