import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';
import { isMonitorError } from '../../src/core/errors.js';
import type { ConnectionEvent } from '../../src/core/event.js';
import { monitorHttp, type MonitorHttpOptions } from '../../src/instrument/http.js';
import { disposeAfterTest } from '../helpers/after-test.js';
import { thrownMonitorError } from '../helpers/monitor-error.js';
import { waitUntil } from '../helpers/wait.js';
import {
  closedPort,
  startFakeApi,
  startFakePeers,
  type FakeApi,
  type FakePeers,
} from './http-peers.js';

/** Tolerance for measured durations: at least the injected latency, at most this much more. */
const TOLERANCE_MS = 150;
const SECRET = 'sk-very-secret-token';

let peers: FakePeers;
let kimi: FakeApi;
let glm: FakeApi;
let supabase: FakeApi;
let other: FakeApi;
let refusedPort: number;

beforeAll(async () => {
  [peers, other] = await Promise.all([startFakePeers(), startFakeApi()]);
  ({ kimi, glm, supabase } = peers);
  refusedPort = await closedPort(); // after the others, so none of them can take it
});
afterAll(async () => {
  await Promise.all([peers.close(), other.close()]);
});

/** The three stand-ins, plus a refused port that counts as kimi. */
function routes(): MonitorHttpOptions['routes'] {
  return [...peers.routes(), { type: 'kimi', host: '127.0.0.1', port: refusedPort }];
}

/** A memory monitor with the adapter attached until the test finishes. */
function setup(extra: Partial<MonitorHttpOptions> = {}) {
  const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
  const dispose = disposeAfterTest(monitorHttp(monitor, { routes: routes(), ...extra }));
  return { monitor, dispose };
}

/** Events of a type, oldest first. */
function events(monitor: ConnectionMonitor, type: string): ConnectionEvent[] {
  return monitor.getRecentEvents(type, 1000).reverse();
}

/** Waits until `type`'s events are exactly `kinds`, oldest first, and returns them. */
async function waitForKinds(monitor: ConnectionMonitor, type: string, kinds: string[]) {
  const want = JSON.stringify(kinds);
  await waitUntil(
    () => {
      const got = JSON.stringify(events(monitor, type).map((e) => e.kind));
      // Thrown, not returned: the timeout error then carries the last kinds seen as its cause.
      if (got !== want) throw new Error(`got ${got}`);
      return true;
    },
    `${type} events ${kinds.join(',')}`,
  );
  return events(monitor, type);
}

describe('monitorHttp with fetch against local stand-ins for Kimi, GLM and Supabase', () => {
  it('records request and response with status, method, path without query, and duration', async () => {
    const { monitor } = setup();
    const started = performance.now();
    const res = await fetch(`${kimi.url}/v1/chat/completions?api_key=${SECRET}&q=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: SECRET }),
    });
    expect(res.status).toBe(200);
    await res.json();
    const elapsed = performance.now() - started;
    const [request, response] = await waitForKinds(monitor, 'kimi', ['request', 'response']);
    expect(request?.metadata).toEqual({
      method: 'POST',
      host: '127.0.0.1',
      path: '/v1/chat/completions',
    });
    expect(response?.metadata).toMatchObject({
      method: 'POST',
      host: '127.0.0.1',
      path: '/v1/chat/completions',
      status: 200,
    });
    expect(response?.error).toBeUndefined();
    expect(response?.durationMs).toBeGreaterThan(0);
    expect(response?.durationMs).toBeLessThanOrEqual(elapsed);
    expect(response?.metadata?.ttfbMs).toBeLessThanOrEqual(response?.durationMs ?? 0);
    // The request did carry the secrets to the peer; the events do not.
    expect(kimi.received.at(-1)?.authorization).toBe(`Bearer ${SECRET}`);
    expect(JSON.stringify(monitor.getRecentEvents('kimi'))).not.toContain(SECRET);
    expect(JSON.stringify(monitor.getRecentEvents('kimi'))).not.toContain('api_key');
    expect(monitor.getStats('glm')).toBeNull();
  });

  it('records 429 and 500 as error responses with the status, per route type', async () => {
    const { monitor } = setup();
    const r429 = await fetch(`${glm.url}/status/429`);
    await r429.text();
    const r500 = await fetch(`${supabase.url}/status/500?apikey=${SECRET}`, {
      headers: { authorization: `Bearer ${SECRET}`, apikey: SECRET },
    });
    await r500.text();
    const glmEvents = await waitForKinds(monitor, 'glm', ['request', 'response']);
    expect(glmEvents[1]).toMatchObject({
      kind: 'response',
      error: 'HTTP 429 Too Many Requests',
      metadata: { status: 429, path: '/status/429' },
    });
    const sbEvents = await waitForKinds(monitor, 'supabase', ['request', 'response']);
    expect(sbEvents[1]).toMatchObject({
      kind: 'response',
      error: 'HTTP 500 Internal Server Error',
      metadata: { status: 500, path: '/status/500' },
    });
    expect(monitor.getStats('glm')?.errors).toBe(1);
    expect(monitor.getStats('supabase')?.errors).toBe(1);
    expect(JSON.stringify(monitor.getRecentEvents('supabase'))).not.toContain(SECRET);
  });

  it('measures injected latency within the stated tolerance', async () => {
    const { monitor } = setup();
    for (const injected of [200, 400]) {
      const res = await fetch(`${glm.url}/slow/${injected}`);
      await res.text();
    }
    const got = await waitForKinds(monitor, 'glm', ['request', 'response', 'request', 'response']);
    const durations = got.filter((e) => e.kind === 'response').map((e) => e.durationMs ?? -1);
    expect(durations[0]).toBeGreaterThanOrEqual(200);
    expect(durations[0]).toBeLessThan(200 + TOLERANCE_MS);
    expect(durations[1]).toBeGreaterThanOrEqual(400);
    expect(durations[1]).toBeLessThan(400 + TOLERANCE_MS);
  });

  it('records connection refused as an error with its code', async () => {
    const { monitor } = setup();
    await expect(fetch(`http://127.0.0.1:${refusedPort}/v1/models?key=${SECRET}`)).rejects.toThrow(
      'fetch failed',
    );
    const [, failed] = await waitForKinds(monitor, 'kimi', ['request', 'error']);
    expect(failed?.error).toContain('ECONNREFUSED');
    expect(failed?.metadata).toMatchObject({ errorCode: 'ECONNREFUSED', path: '/v1/models' });
    expect(failed?.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(failed)).not.toContain(SECRET);
  });

  it('records AbortSignal.timeout as a timeout with the elapsed time', async () => {
    const { monitor } = setup();
    await expect(fetch(`${kimi.url}/hang`, { signal: AbortSignal.timeout(150) })).rejects.toThrow(
      /timeout/i,
    );
    const [, timedOut] = await waitForKinds(monitor, 'kimi', ['request', 'timeout']);
    // The signal's timer starts before fetch hands the request to undici (a few ms, more under
    // load), so the recorded duration may fall short of 150 by up to that gap: allow 50 ms.
    expect(timedOut?.durationMs).toBeGreaterThan(100);
    expect(timedOut?.durationMs).toBeLessThan(150 + TOLERANCE_MS);
    expect(timedOut?.error).toMatch(/timeout/i);
    expect(monitor.getStats('kimi')?.errors).toBe(1);
  });

  it('records a caller abort as abort (not an error), or as timeout past timeoutMs', async () => {
    const { monitor, dispose } = setup();
    const early = new AbortController();
    const before = glm.received.length;
    const p1 = fetch(`${glm.url}/hang`, { signal: early.signal });
    await waitUntil(() => glm.received.length > before, 'the request to reach the peer');
    early.abort();
    await expect(p1).rejects.toThrow(/abort/i);
    const got = await waitForKinds(monitor, 'glm', ['request', 'abort']);
    expect(got[1]?.error).toBeUndefined();
    expect(monitor.getStats('glm')?.errors).toBe(0);
    dispose();

    // An SDK-style timeout: AbortController + its own timer, after timeoutMs.
    const { monitor: m2 } = setup({ timeoutMs: 100 });
    const sdk = new AbortController();
    const reached = glm.received.length;
    const call = fetch(`${glm.url}/hang`, { signal: sdk.signal });
    await waitUntil(() => glm.received.length > reached, 'the request to reach the peer');
    const timer = setTimeout(() => sdk.abort(), 120); // started once the request is under way
    await expect(call).rejects.toThrow(/abort/i);
    clearTimeout(timer);
    const got2 = await waitForKinds(m2, 'glm', ['request', 'timeout']);
    expect(got2[1]?.durationMs).toBeGreaterThanOrEqual(100);
  });

  it('counts a plain abort before the headers as timeout from timeoutMs − timeoutToleranceMs on', async () => {
    // An SDK timer firing 80 ms after the request reached the peer, twice: with timeoutMs 1000
    // and the default tolerance (100 ms) that is an abort; with a tolerance of 950 ms, a timeout.
    const sdkStyleAbort = async (monitor: ConnectionMonitor, kind: string) => {
      const sdk = new AbortController();
      const reached = glm.received.length;
      const call = fetch(`${glm.url}/hang`, { signal: sdk.signal });
      await waitUntil(() => glm.received.length > reached, 'the request to reach the peer', {
        timeoutMs: 5_000,
        intervalMs: 10,
      });
      const timer = setTimeout(() => sdk.abort(), 80);
      await expect(call).rejects.toThrow(/abort/i);
      clearTimeout(timer);
      const [, ended] = await waitForKinds(monitor, 'glm', ['request', kind]);
      expect(ended?.durationMs).toBeGreaterThanOrEqual(80);
      expect(ended?.durationMs).toBeLessThan(900);
    };
    const { monitor, dispose } = setup({ timeoutMs: 1_000 });
    await sdkStyleAbort(monitor, 'abort');
    dispose();
    const { monitor: m2 } = setup({ timeoutMs: 1_000, timeoutToleranceMs: 950 });
    await sdkStyleAbort(m2, 'timeout');
  });

  it('ignores unmatched hosts, or records them under defaultType', async () => {
    const { monitor, dispose } = setup();
    await (await fetch(`${other.url}/x`)).text();
    await (await fetch(`${kimi.url}/y`)).text();
    await waitForKinds(monitor, 'kimi', ['request', 'response']);
    expect(monitor.getTypes()).toEqual(['kimi']);
    dispose();

    const { monitor: m2 } = setup({ defaultType: 'http' });
    await (await fetch(`${other.url}/x?token=${SECRET}`)).text();
    const got = await waitForKinds(m2, 'http', ['request', 'response']);
    expect(got[1]?.metadata).toMatchObject({ path: '/x', status: 200 });
  });

  it('stops recording after dispose; dispose is idempotent', async () => {
    const { monitor, dispose } = setup();
    await (await fetch(`${kimi.url}/a`)).text();
    await waitForKinds(monitor, 'kimi', ['request', 'response']);
    dispose();
    dispose();
    await (await fetch(`${kimi.url}/b`)).text();
    await (await fetch(`${kimi.url}/slow/30`)).text();
    expect(events(monitor, 'kimi')).toHaveLength(2);
    // A fresh attach after dispose works.
    disposeAfterTest(monitorHttp(monitor, { routes: routes() }));
    await (await fetch(`${kimi.url}/c`)).text();
    await waitForKinds(monitor, 'kimi', ['request', 'response', 'request', 'response']);
  });

  it('guards against attaching twice to the same monitor', () => {
    const { monitor } = setup();
    const second = thrownMonitorError(
      () => monitorHttp(monitor, { routes: routes() }),
      'CM_ERR_CONFIG',
    );
    expect(second.field).toBe('target');
  });

  it('rejects bad options with CM_ERR_CONFIG naming the field', () => {
    const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
    const field = (fn: () => unknown) => thrownMonitorError(fn, 'CM_ERR_CONFIG').field;
    expect(field(() => monitorHttp(monitor, { routes: [{ type: 'Bad Type', host: 'x' }] }))).toBe(
      'routes[0].type',
    );
    expect(field(() => monitorHttp(monitor, { routes: [{ type: 'kimi', host: '' }] }))).toBe(
      'routes[0].host',
    );
    expect(field(() => monitorHttp(monitor, { routes: [], timeoutMs: -1 }))).toBe('timeoutMs');
    expect(field(() => monitorHttp(monitor, { routes: [], timeoutToleranceMs: -1 }))).toBe(
      'timeoutToleranceMs',
    );
    expect(field(() => monitorHttp(monitor, {} as MonitorHttpOptions))).toBe('routes');
  });

  it('never breaks fetch: a closed monitor detaches, a rejecting monitor goes to onError', async () => {
    const { monitor } = setup();
    await monitor.close();
    const res = await fetch(`${kimi.url}/after-close`);
    expect(res.status).toBe(200);
    await res.text();
    // The adapter disposed itself on CM_ERR_CLOSED, so a new attach is allowed.
    expect(() => disposeAfterTest(monitorHttp(monitor, { routes: routes() }))).not.toThrow();

    const errors: unknown[] = [];
    const m2 = new ConnectionMonitor({ persistence: false, logger: silentLogger, maxTypes: 1 });
    m2.recordEvent('other', { kind: 'connect' }); // the only type allowed: kimi will be rejected
    disposeAfterTest(
      monitorHttp(m2, {
        routes: routes(),
        onError: (err) => {
          errors.push(err);
          throw new Error('onError itself throws');
        },
      }),
    );
    const res2 = await fetch(`${kimi.url}/rejected`);
    expect(res2.status).toBe(200);
    await res2.text();
    await waitUntil(() => errors.length >= 2, 'two rejected events');
    expect(isMonitorError(errors[0], 'CM_ERR_INVALID_EVENT')).toBe(true);
  });

  it('ends every request in exactly one terminal event', async () => {
    const { monitor } = setup({ timeoutMs: 10_000 });
    const calls = [
      fetch(`${kimi.url}/ok`).then((r) => r.text()),
      fetch(`${kimi.url}/status/503`).then((r) => r.text()),
      fetch(`${kimi.url}/slow/50`).then((r) => r.text()),
      fetch(`${kimi.url}/hang`, { signal: AbortSignal.timeout(80) }).catch(() => 'timeout'),
      fetch(`http://127.0.0.1:${refusedPort}/x`).catch(() => 'refused'),
    ];
    await Promise.all(calls);
    await waitUntil(() => events(monitor, 'kimi').length === 10, '10 kimi events');
    const kinds = monitor.getStats('kimi')?.kinds ?? {};
    expect(kinds).toEqual({ request: 5, response: 3, timeout: 1, error: 1 });
  });
});
