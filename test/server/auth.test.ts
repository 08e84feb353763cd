import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';
import { createMonitoringServer } from '../../src/server/app.js';
import { isMonitorError } from '../../src/core/errors.js';
import { TestClient, startServer, type TestServer } from './helpers.js';

const TOKEN = 'correct-horse-battery-staple';
let t: TestServer;
let dashboardDir: string;

beforeAll(async () => {
  // A stand-in dashboard build so `/` serves index.html and an asset.
  dashboardDir = mkdtempSync(join(tmpdir(), 'cm-dash-'));
  writeFileSync(join(dashboardDir, 'index.html'), '<!doctype html><title>dash</title>');
  writeFileSync(join(dashboardDir, 'app.js'), 'console.log(1)');
  t = await startServer({ token: TOKEN, dashboardDir });
});
afterAll(async () => {
  await t.close();
  rmSync(dashboardDir, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A GET with the request target sent exactly as given (fetch would normalise it). */
function rawGet(base: string, target: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: target, method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('token auth (MONITOR_TOKEN)', () => {
  it('keeps /healthz open and closes every other route without a token', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    for (const path of [
      '/api/status',
      '/api/stats',
      '/api/events?type=x',
      '/api/timeseries',
      '/metrics',
      '/app.js',
    ]) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('CM_ERR_UNAUTHORIZED');
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    }
    const postRes = await fetch(`${t.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'x', kind: 'connect' }),
    });
    expect(postRes.status).toBe(401);
    expect(t.monitor.getStats('x')).toBeNull();
  });

  it('accepts the token in the Authorization header and in ?token=', async () => {
    expect((await fetch(`${t.url}/api/status`, { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await fetch(`${t.url}/api/status?token=${TOKEN}`)).status).toBe(200);
    // ?token= is allowed next to the parameters of the query routes.
    for (const path of ['/api/stats?', '/api/events?type=glm&', '/api/timeseries?bucket=1m&']) {
      expect((await fetch(`${t.url}${path}token=${TOKEN}`)).status, path).toBeLessThan(400);
    }
    expect((await fetch(`${t.url}/metrics`, { headers: bearer(TOKEN) })).status).toBe(200);
    const body = (await (
      await fetch(`${t.url}/api/status`, { headers: bearer(TOKEN) })
    ).json()) as {
      server: { auth: boolean };
    };
    expect(body.server.auth).toBe(true);
  });

  it('rejects wrong tokens of every length the same way (hashed, constant-time compare)', async () => {
    // Without hashing first, timingSafeEqual throws on a length mismatch: these would be 500s.
    const wrong = [
      '',
      'x',
      TOKEN.slice(0, -1),
      `${TOKEN.slice(0, -1)}X`,
      `${TOKEN}x`,
      'y'.repeat(4000),
    ];
    for (const w of wrong) {
      const res = await fetch(`${t.url}/api/status`, { headers: bearer(w) });
      expect(res.status, `token of length ${w.length}`).toBe(401);
      const q = await fetch(`${t.url}/api/status?token=${encodeURIComponent(w)}`);
      expect(q.status).toBe(401);
    }
    expect((await fetch(`${t.url}/api/status`, { headers: { authorization: TOKEN } })).status).toBe(
      401,
    );
    expect(
      (await fetch(`${t.url}/api/status`, { headers: { authorization: `Basic ${TOKEN}` } })).status,
    ).toBe(401);
  });

  it('GET / without credentials asks for the token with a small HTML form', async () => {
    const res = await fetch(`${t.url}/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<form method="get" action="/">');
    expect(html).toContain('name="token"');
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it('GET /?token= sets an HttpOnly SameSite=Strict cookie that then opens the dashboard and its assets', async () => {
    const res = await fetch(`${t.url}/?token=${TOKEN}`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>dash</title>');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cm_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0] as string;
    const asset = await fetch(`${t.url}/app.js`, { headers: { cookie: session } });
    expect(asset.status).toBe(200);
    expect(await asset.text()).toBe('console.log(1)');
    const api = await fetch(`${t.url}/api/stats`, { headers: { cookie: session } });
    expect(api.status).toBe(200);
    const forged = await fetch(`${t.url}/app.js`, {
      headers: { cookie: `cm_session=${'0'.repeat(64)}` },
    });
    expect(forged.status).toBe(401);
    // The cookie opens a same-origin WebSocket (the browser sends it with the upgrade).
    const ws = await TestClient.connect(t.wsUrl, { cookie: session, origin: t.url });
    expect(await ws.request({ type: 'status' })).toMatchObject({ type: 'status' });
    await ws.close();
    // …but not one from a foreign page: a cookie rides along cross-site, a token does not.
    await expect(
      TestClient.connect(t.wsUrl, { cookie: session, origin: 'https://evil.example' }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('guards the WebSocket upgrade: header or ?token= accepted, nothing else', async () => {
    await expect(TestClient.connect(t.wsUrl)).rejects.toMatchObject({ status: 401 });
    await expect(TestClient.connect(`${t.wsUrl}?token=wrong-token-value`)).rejects.toMatchObject({
      status: 401,
    });
    const viaHeader = await TestClient.connect(t.wsUrl, bearer(TOKEN));
    expect(await viaHeader.request({ type: 'status' })).toMatchObject({ type: 'status' });
    await viaHeader.close();
    const viaQuery = await TestClient.connect(`${t.wsUrl}?token=${TOKEN}`);
    expect(await viaQuery.request({ type: 'subscribe' })).toMatchObject({ ok: true });
    await viaQuery.close();
  });

  it('never returns the token in any answer', async () => {
    for (const path of ['/api/status', '/api/stats', '/metrics']) {
      const text = await (await fetch(`${t.url}${path}`, { headers: bearer(TOKEN) })).text();
      expect(text, path).not.toContain(TOKEN);
    }
  });
});

describe('without a token', () => {
  it('serves every route openly on loopback', async () => {
    const s = await startServer();
    try {
      expect((await fetch(`${s.url}/api/status`)).status).toBe(200);
      const ws = await TestClient.connect(s.wsUrl);
      expect(await ws.request({ type: 'status' })).toMatchObject({ type: 'status' });
      await ws.close();
    } finally {
      await s.close();
    }
  });

  it('refuses a non-loopback host with a clear CM_ERR_CONFIG error', () => {
    const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      let caught: unknown;
      try {
        createMonitoringServer(monitor, { host, port: 0 });
      } catch (err) {
        caught = err;
      }
      expect(isMonitorError(caught, 'CM_ERR_CONFIG'), host).toBe(true);
      expect((caught as Error).message).toMatch(/non-loopback host .* without a token/);
    }
    for (const host of ['127.0.0.1', '::1', 'localhost', '127.1.2.3']) {
      expect(() => createMonitoringServer(monitor, { host, port: 0 })).not.toThrow();
    }
    expect(() =>
      createMonitoringServer(monitor, { host: '0.0.0.0', port: 0, token: TOKEN }),
    ).not.toThrow();
    expect(() =>
      createMonitoringServer(monitor, { host: '0.0.0.0', port: 0, token: 'short' }),
    ).toThrow(/at least 12/);
  });
});

describe('secrets', () => {
  it('never shows the Redis password in status, stats, metrics or WebSocket answers', async () => {
    const s = await startServer(
      {},
      { persistence: true, redisUrl: 'redis://:hunter2@127.0.0.1:1' },
    );
    try {
      s.monitor.recordEvent('redis', { kind: 'error', error: 'connect ECONNREFUSED' });
      for (const path of [
        '/api/status',
        '/api/stats',
        '/api/events?type=redis',
        '/api/timeseries',
        '/metrics',
      ]) {
        const text = await (await fetch(`${s.url}${path}`)).text();
        expect(text, path).not.toContain('hunter2');
      }
      const ws = await TestClient.connect(s.wsUrl);
      await ws.request({ type: 'subscribe' });
      const status = await ws.request({ type: 'status' });
      expect(JSON.stringify(status)).not.toContain('hunter2');
      const stats = await ws.waitFor((m) => m.type === 'stats');
      expect(JSON.stringify(stats)).not.toContain('hunter2');
      await ws.close();
    } finally {
      await s.close();
    }
  });

  it('redacts ?token= from request logs', async () => {
    const lines: string[] = [];
    const s = await startServer({
      token: TOKEN,
      logger: { level: 'info', stream: { write: (l: string) => lines.push(l) } } as never,
    });
    try {
      await fetch(`${s.url}/api/status?token=${TOKEN}`);
      await fetch(`${s.url}/api/status`, { headers: bearer(TOKEN) });
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('')).toContain('token=***');
      expect(lines.join('')).not.toContain(TOKEN);
    } finally {
      await s.close();
    }
  });

  it('never logs or echoes the token, however its parameter name is spelled or encoded', async () => {
    const lines: string[] = [];
    const s = await startServer({
      token: TOKEN,
      logger: { level: 'trace', stream: { write: (l: string) => lines.push(l) } } as never,
    });
    const encoded = encodeURIComponent(TOKEN);
    // [request target, status]: what Fastify's query parser reads as `token` is the token (a
    // percent-encoded name is the same name); other spellings are not, but are redacted all the
    // same, since a client that sends them meant the token.
    const targets: [string, number][] = [
      [`/api/status?tok%65n=${TOKEN}`, 200],
      [`/api/status?%74oken=${TOKEN}`, 200],
      [`/api/status?%74%6F%6B%65%6E=${encoded}`, 200],
      [`/api/status?%74%6f%6b%65%6e=${TOKEN}`, 200],
      [`/api/status#token=${TOKEN}`, 200],
      [`/api/stats?type=glm&tok%65n=${TOKEN}`, 404],
      [`/api/status?token=${TOKEN}&token=${TOKEN}`, 401],
      [`/api/status?tok%65n=${TOKEN}&%74oken=${TOKEN}`, 401],
      [`/api/status?TOKEN=${TOKEN}`, 401],
      [`/api/status?ToK%45n=${TOKEN}`, 401],
      [`/api/status?tok%2565n=${TOKEN}`, 401],
      [`/api/status;token=${TOKEN}`, 401],
      [`/api/status?x=1?token=${TOKEN}`, 401],
      [`/api/status?tok+en=${TOKEN}`, 401],
      [`/api/%zz?token=${TOKEN}`, 400],
      [`/nothing#token=${TOKEN}`, 404],
      [`/nothing?tok%65n=${TOKEN}#token=${TOKEN}`, 401],
    ];
    try {
      for (const [target, status] of targets) {
        const res = await rawGet(s.url, target);
        expect(res.status, target).toBe(status);
        expect(res.text, target).not.toContain(TOKEN);
      }
      const ws = await TestClient.connect(`${s.wsUrl}?tok%65n=${TOKEN}`);
      await ws.close();
      const log = lines.join('');
      expect(log).not.toContain(TOKEN);
      expect(log).not.toContain(encoded.slice(0, 12));
      const urls = lines
        .map((l) => (JSON.parse(l) as { req?: { url?: string } }).req?.url)
        .filter((u) => u !== undefined);
      // Every request was logged, each with its token parameter(s) masked.
      expect(urls.length).toBeGreaterThanOrEqual(targets.length + 1);
      expect(urls.every((u) => u.includes('=***'))).toBe(true);
    } finally {
      await s.close();
    }
  });
});
