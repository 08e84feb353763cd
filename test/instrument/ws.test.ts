import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { isMonitorError } from '../../src/core/errors.js';
import type { ConnectionEvent } from '../../src/core/event.js';
import { monitorWebSocketServer } from '../../src/instrument/ws.js';
import { INTERNAL_CLIENT } from '../../src/core/internal.js';
import type { Disposer } from '../../src/instrument/adapter.js';
import { disposeAfterTest } from '../helpers/after-test.js';
import { thrownMonitorError } from '../helpers/monitor-error.js';
import { waitUntil } from '../helpers/wait.js';

/** Ping round trips on loopback must come in under this many ms. */
const PING_TOLERANCE_MS = 150;

/**
 * A real ws server whose application echoes every message and greets each connection; closed,
 * with its clients, when the test finishes.
 */
async function echoServer(): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (ws) => {
    ws.on('error', () => {}); // the application handles its errors
    ws.send('welcome'); // sent from the application's handler, right after the connection
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return { wss, url: `ws://127.0.0.1:${port}` };
}

function newMonitor(logger: Logger = silentLogger): ConnectionMonitor {
  return new ConnectionMonitor({ persistence: false, logger });
}

/** Attaches the adapter until the test finishes. */
function attach(...args: Parameters<typeof monitorWebSocketServer>): Disposer {
  return disposeAfterTest(monitorWebSocketServer(...args));
}

/** A client that has been greeted; terminated when the test finishes. */
async function client(url: string, options?: ConstructorParameters<typeof WebSocket>[2]) {
  const ws = new WebSocket(url, options);
  const received: string[] = [];
  ws.on('message', (d) => received.push(String(d)));
  ws.on('error', () => {});
  onTestFinished(() => ws.terminate());
  await once(ws, 'open');
  await waitUntil(() => received.includes('welcome'), 'the welcome message');
  return { ws, received };
}

function eventsOf(monitor: ConnectionMonitor, type = 'websocket'): ConnectionEvent[] {
  return monitor.getRecentEvents(type, 1000).reverse();
}

function byKind(monitor: ConnectionMonitor, kind: string, type = 'websocket') {
  return eventsOf(monitor, type).filter((e) => e.kind === kind);
}

describe('monitorWebSocketServer with a real ws server and clients', () => {
  it('records connect, then disconnect with code, reason, duration and traffic totals', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0 });
    const openedAt = performance.now();
    const { ws, received } = await client(`${url}/chat?token=secret-token`);
    const [connect] = byKind(monitor, 'connect');
    expect(connect?.metadata).toEqual({ remoteAddress: '127.0.0.1', path: '/chat' });

    ws.send('hello'); // 5 bytes
    ws.send(Buffer.alloc(10, 1)); // 10 bytes, binary
    ws.send('héllo'); // 6 bytes in UTF-8
    await waitUntil(() => received.length === 4, 'three echoes');
    ws.close(4001, 'bye now');
    await waitUntil(() => byKind(monitor, 'disconnect').length === 1, 'disconnect');
    const lifetime = performance.now() - openedAt;
    const [disconnect] = byKind(monitor, 'disconnect');
    const { connectedMs, ...rest } = disconnect?.metadata ?? {};
    expect(rest).toEqual({
      code: 4001,
      reason: 'bye now',
      messagesIn: 3,
      bytesIn: 21,
      messagesOut: 4, // the welcome and three echoes
      bytesOut: 7 + 21,
      remoteAddress: '127.0.0.1',
    });
    expect(disconnect?.error).toBeUndefined();
    expect(disconnect?.durationMs).toBeUndefined(); // durationMs is for latencies only
    expect(connectedMs).toBeGreaterThan(0);
    expect(connectedMs).toBeLessThanOrEqual(lifetime + 0.1);
    // No event per message by default.
    expect(eventsOf(monitor).map((e) => e.kind)).toEqual(['connect', 'disconnect']);
    expect(JSON.stringify(eventsOf(monitor))).not.toContain('secret-token');
  });

  it('records an abnormal close (1006) with an error', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0 });
    const { ws } = await client(url);
    ws.terminate();
    await waitUntil(() => byKind(monitor, 'disconnect').length === 1, 'disconnect');
    const [disconnect] = byKind(monitor, 'disconnect');
    expect(disconnect?.metadata?.code).toBe(1006);
    expect(disconnect?.error).toBe('abnormal close 1006');
    expect(monitor.getStats('websocket')?.errors).toBe(1);
  });

  it('records a protocol error from a client (invalid UTF-8) and the 1007 close', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0 });
    const { ws } = await client(url);
    ws.send(Buffer.from([0xff, 0xfe]), { binary: false }); // a text frame that is not UTF-8
    await waitUntil(() => byKind(monitor, 'disconnect').length === 1, 'disconnect');
    const [error] = byKind(monitor, 'error');
    expect(error?.metadata).toMatchObject({ errorCode: 'WS_ERR_INVALID_UTF8' });
    expect(error?.error).toMatch(/UTF-8/i);
    // ws closes with 1007 and stops reading, so it never sees the peer's close frame: 1006.
    const [disconnect] = byKind(monitor, 'disconnect');
    expect([1006, 1007]).toContain(disconnect?.metadata?.code);
    expect(disconnect?.error).toMatch(/^abnormal close 100[67]$/);
  });

  it('records ping round trips, ignores the application’s own pings, and times out silent peers', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 40 });
    await client(url);
    await waitUntil(() => byKind(monitor, 'ping').length >= 3, 'three pings');
    for (const ping of byKind(monitor, 'ping')) {
      expect(ping.durationMs).toBeGreaterThanOrEqual(0);
      expect(ping.durationMs).toBeLessThan(PING_TOLERANCE_MS);
    }
    expect(byKind(monitor, 'timeout')).toHaveLength(0);

    // A peer that never answers pings: each unanswered ping becomes a timeout.
    await client(url, { autoPong: false });
    await waitUntil(() => byKind(monitor, 'timeout').length >= 2, 'two ping timeouts');
    expect(byKind(monitor, 'timeout')[0]).toMatchObject({
      error: 'no pong before the next ping',
      metadata: { probe: 'ping' },
    });
  });

  it('does not take the application’s own ping/pong for its own', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0 });
    await client(url);
    const [serverSide] = [...wss.clients];
    let pongs = 0;
    serverSide?.on('pong', () => pongs++);
    serverSide?.ping(Buffer.from('app-heartbeat'));
    serverSide?.ping();
    await waitUntil(() => pongs === 2, 'the application’s pongs');
    expect(byKind(monitor, 'ping')).toHaveLength(0);
  });

  it('records one event per message with messageEvents', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0, messageEvents: true });
    const { ws, received } = await client(url);
    ws.send('abc');
    await waitUntil(() => received.length === 2, 'the echo');
    await waitUntil(() => byKind(monitor, 'message').length === 3, 'message events');
    expect(byKind(monitor, 'message').map((e) => e.metadata)).toEqual([
      { direction: 'out', bytes: 7 },
      { direction: 'in', bytes: 3 },
      { direction: 'out', bytes: 3 },
    ]);
  });

  it('reports traffic periodically with trafficIntervalMs, totals still at disconnect', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0, trafficIntervalMs: 30 });
    const { ws, received } = await client(url);
    ws.send('one');
    ws.send('three');
    await waitUntil(() => received.length === 3, 'two echoes');
    const sum = (key: string) =>
      byKind(monitor, 'traffic').reduce((n, e) => n + Number(e.metadata?.[key] ?? 0), 0);
    await waitUntil(() => sum('messagesOut') === 3, 'traffic reports');
    expect(sum('messagesIn')).toBe(2);
    expect(sum('bytesIn')).toBe(8);
    expect(sum('bytesOut')).toBe(7 + 8);
    ws.close(1000);
    await waitUntil(() => byKind(monitor, 'disconnect').length === 1, 'disconnect');
    expect(byKind(monitor, 'disconnect')[0]?.metadata).toMatchObject({
      messagesIn: 2,
      messagesOut: 3,
    });
  });

  it('adopts connections open before attaching', async () => {
    const { wss, url } = await echoServer();
    const { ws, received } = await client(url);
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0 });
    ws.send('x');
    await waitUntil(() => received.length === 2, 'the echo');
    ws.close(1000);
    await waitUntil(() => byKind(monitor, 'disconnect').length === 1, 'disconnect');
    expect(byKind(monitor, 'connect')).toHaveLength(0);
    expect(byKind(monitor, 'disconnect')[0]?.metadata).toMatchObject({
      code: 1000,
      adopted: true,
      messagesIn: 1,
      messagesOut: 1,
    });
  });

  it('stops recording after dispose and restores send; dispose is idempotent', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    const dispose = attach(wss, monitor, { pingIntervalMs: 20 });
    const first = await client(url);
    await waitUntil(() => byKind(monitor, 'ping').length >= 1, 'a ping');
    const [serverSide] = [...wss.clients];
    expect(Object.hasOwn(serverSide as object, 'send')).toBe(true);
    dispose();
    dispose();
    expect(Object.hasOwn(serverSide as object, 'send')).toBe(false);
    const count = eventsOf(monitor).length;
    first.ws.send('still works');
    await waitUntil(() => first.received.includes('still works'), 'the echo');
    const second = await client(url);
    const closed = Promise.all([once(second.ws, 'close'), once(first.ws, 'close')]);
    second.ws.close(1000);
    first.ws.close(1000);
    await closed;
    // A control monitor attached now proves several ping intervals pass without `monitor` moving.
    const control = newMonitor();
    attach(wss, control, { pingIntervalMs: 20 });
    const third = await client(url);
    await waitUntil(() => byKind(control, 'ping').length >= 3, 'control pings');
    third.ws.close(1000);
    expect(eventsOf(monitor)).toHaveLength(count);
  });

  it('guards against a second attach and refuses the monitor’s own server', async () => {
    const { wss } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 0 });
    const second = thrownMonitorError(() => monitorWebSocketServer(wss, monitor), 'CM_ERR_CONFIG');
    expect(second.field).toBe('target');
    // Another monitor may attach to the same server.
    expect(() => attach(wss, newMonitor(), { pingIntervalMs: 0 })).not.toThrow();

    const own = await echoServer();
    (own.wss as unknown as Record<symbol, boolean>)[INTERNAL_CLIENT] = true;
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_o, msg) => warnings.push(msg ?? '') };
    const m2 = newMonitor(logger);
    attach(own.wss, m2, { pingIntervalMs: 0 });
    await client(own.url);
    expect(m2.getTypes()).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('never breaks the server: a closed monitor detaches, rejected events go to onError', async () => {
    const { wss, url } = await echoServer();
    const monitor = newMonitor();
    attach(wss, monitor, { pingIntervalMs: 20 });
    await monitor.close();
    const { ws, received } = await client(url);
    ws.send('ping me');
    await waitUntil(() => received.includes('ping me'), 'the echo');
    // Detached on CM_ERR_CLOSED: attaching again is allowed, and send is the prototype's again.
    expect(Object.hasOwn([...wss.clients][0] as object, 'send')).toBe(false);

    const errors: unknown[] = [];
    const m2 = new ConnectionMonitor({ persistence: false, logger: silentLogger, maxTypes: 1 });
    m2.recordEvent('other', { kind: 'connect' });
    attach(wss, m2, {
      pingIntervalMs: 0,
      onError: (err) => {
        errors.push(err);
        throw new Error('onError throws too');
      },
    });
    const second = await client(url);
    second.ws.send('x');
    await waitUntil(() => second.received.includes('x'), 'the echo');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(isMonitorError(errors[0], 'CM_ERR_INVALID_EVENT')).toBe(true);
  });

  it('rejects bad options with CM_ERR_CONFIG', async () => {
    const { wss } = await echoServer();
    const monitor = newMonitor();
    expect(() => monitorWebSocketServer(wss, monitor, { type: 'Web Socket' })).toThrow(
      expect.objectContaining({ code: 'CM_ERR_CONFIG', field: 'type' }),
    );
    expect(() => monitorWebSocketServer(wss, monitor, { pingIntervalMs: -5 })).toThrow(
      expect.objectContaining({ code: 'CM_ERR_CONFIG', field: 'pingIntervalMs' }),
    );
  });
});
