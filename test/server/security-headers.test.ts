/**
 * Security headers (@fastify/helmet) on every answer of a real server: the Content-Security-Policy
 * the dashboard runs under (checked in Chromium by test/dashboard/), the sign-in page's own policy
 * allowing exactly its inline style, and HSTS only when configured.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

const TOKEN = 'correct-horse-battery-staple';

/** The policy of the dashboard and the API, directive by directive. */
const DASHBOARD_POLICY = {
  'default-src': ["'self'"],
  'base-uri': ["'none'"],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
};

/** `a b; c d` → `{ a: ['b'], c: ['d'] }`. */
function parsePolicy(header: string | null): Record<string, string[]> {
  expect(header).not.toBeNull();
  const policy: Record<string, string[]> = {};
  for (const part of (header as string).split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name !== undefined && name !== '') policy[name] = values;
  }
  return policy;
}

function expectCommonHeaders(res: Response, what: string): void {
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(res.headers.get('x-frame-options'), what).toBe('DENY');
  expect(res.headers.get('strict-transport-security'), what).toBeNull();
}

let open: TestServer;
let guarded: TestServer;
let dashboardDir: string;

beforeAll(async () => {
  dashboardDir = mkdtempSync(join(tmpdir(), 'cm-dash-'));
  writeFileSync(join(dashboardDir, 'index.html'), '<!doctype html><title>dash</title>');
  open = await startServer({ dashboardDir });
  guarded = await startServer({ dashboardDir, token: TOKEN });
});
afterAll(async () => {
  await open.close();
  await guarded.close();
  rmSync(dashboardDir, { recursive: true, force: true });
});

describe('security headers', () => {
  it('sends the dashboard policy and the other headers on the page, the API, errors and 404s', async () => {
    for (const [url, status] of [
      [`${open.url}/`, 200],
      [`${open.url}/index.html`, 200],
      [`${open.url}/api/status`, 200],
      [`${open.url}/api/nothing`, 404],
      [`${open.url}/api/events`, 400],
      [`${guarded.url}/api/status`, 401],
    ] as const) {
      const res = await fetch(url);
      expect(res.status, url).toBe(status);
      expect(parsePolicy(res.headers.get('content-security-policy')), url).toEqual(
        DASHBOARD_POLICY,
      );
      expectCommonHeaders(res, url);
    }
    const api = await fetch(`${open.url}/api/status`);
    expect(api.headers.get('cache-control')).toBe('no-store');
  });

  it("gives the sign-in page a policy that allows exactly its inline style (a hash, no 'unsafe-inline')", async () => {
    const res = await fetch(`${guarded.url}/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(401);
    const html = await res.text();
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
    expect(style).toBeDefined();
    const hash = createHash('sha256')
      .update(style as string, 'utf8')
      .digest('base64');
    const header = res.headers.get('content-security-policy');
    expect(header).not.toMatch(/unsafe-inline/);
    expect(parsePolicy(header)).toEqual({
      'default-src': ["'none'"],
      'style-src': [`'sha256-${hash}'`],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
    });
    expectCommonHeaders(res, 'sign-in page');
  });

  it('sends HSTS only when configured (the service itself speaks plain HTTP)', async () => {
    const s = await startServer({ hsts: true });
    try {
      const res = await fetch(`${s.url}/healthz`);
      expect(res.headers.get('strict-transport-security')).toBe(
        'max-age=31536000; includeSubDomains',
      );
    } finally {
      await s.close();
    }
  });
});
