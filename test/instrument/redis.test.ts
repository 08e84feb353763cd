import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { isMonitorError } from '../../src/core/errors.js';
import type { ConnectionEvent } from '../../src/core/event.js';
import { monitorRedisClient } from '../../src/instrument/redis.js';
import { INTERNAL_CLIENT, markInternalClient } from '../../src/core/internal.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { disposeAfterTest } from '../helpers/after-test.js';
import { thrownMonitorError } from '../helpers/monitor-error.js';
import { waitUntil } from '../helpers/wait.js';

const SECRET = 'secret-value-1234';
let server: TestRedis;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});

function newMonitor(logger: Logger = silentLogger) {
  return new ConnectionMonitor({ persistence: false, logger });
}

/**
 * A lazily connecting client with a short fixed retry delay; the application handles errors.
 * Disconnected when the test finishes.
 */
function newClient(options: RedisOptions = {}): Redis {
  const client = new Redis(server.url, {
    lazyConnect: true,
    retryStrategy: () => 50,
    ...options,
  });
  client.on('error', () => {});
  onTestFinished(() => client.disconnect());
  return client;
}

function eventsOf(monitor: ConnectionMonitor, type = 'redis'): ConnectionEvent[] {
  return monitor.getRecentEvents(type, 10_000).reverse();
}

function kinds(monitor: ConnectionMonitor, type = 'redis'): string[] {
  return eventsOf(monitor, type).map((e) => e.kind);
}

function byKind(monitor: ConnectionMonitor, kind: string, type = 'redis') {
  return eventsOf(monitor, type).filter((e) => e.kind === kind);
}

describe('monitorRedisClient with a real redis-server', () => {
  it('records connect and ready, then command latency by name only', async () => {
    const monitor = newMonitor();
    const client = newClient();
    disposeAfterTest(monitorRedisClient(client, monitor));
    await client.connect();
    await waitUntil(() => kinds(monitor).includes('ready'), 'ready');
    const [connect] = byKind(monitor, 'connect');
    const [ready] = byKind(monitor, 'ready');
    expect(connect).toBeDefined();
    expect(ready?.durationMs).toBeGreaterThanOrEqual(0);

    // ioredis's handshake (HELLO, CLIENT SETINFO — which fails on Redis 7.0 —, INFO) is not ours.
    expect(kinds(monitor)).toEqual(['connect', 'ready']);
    const before = eventsOf(monitor).length;
    await client.set('user:42:token', SECRET);
    expect(await client.get('user:42:token')).toBe(SECRET);
    await waitUntil(() => eventsOf(monitor).length === before + 4, 'command events');
    const commandEvents = eventsOf(monitor).slice(before);
    expect(commandEvents.map((e) => [e.kind, e.metadata?.command])).toEqual([
      ['request', 'set'],
      ['response', 'set'],
      ['request', 'get'],
      ['response', 'get'],
    ]);
    for (const e of commandEvents.filter((x) => x.kind === 'response')) {
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
      expect(e.durationMs).toBeLessThan(1000);
    }
    const all = JSON.stringify(eventsOf(monitor));
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('user:42');
  });

  it('measures command latency while the server is paused, and records command timeouts', async () => {
    const monitor = newMonitor();
    const client = newClient({ commandTimeout: 150 });
    disposeAfterTest(monitorRedisClient(client, monitor, { requestEvents: false }));
    await client.connect();
    server.pause();
    const started = performance.now();
    let resumed = false;
    try {
      const slow = client.get('k');
      await expect(slow).rejects.toThrow('Command timed out');
      expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    } finally {
      server.resume();
      resumed = true;
    }
    expect(resumed).toBe(true);
    const [timeout] = byKind(monitor, 'timeout');
    expect(timeout?.metadata).toEqual({ command: 'get' });
    expect(timeout?.durationMs).toBeGreaterThanOrEqual(149);
    expect(timeout?.durationMs).toBeLessThan(150 + 150);
    expect(timeout?.error).toBe('Command timed out');
  });

  it('records error replies without echoing arguments', async () => {
    const monitor = newMonitor();
    const client = newClient();
    disposeAfterTest(monitorRedisClient(client, monitor));
    await client.connect();
    await expect(client.call('nosuchcommand', SECRET)).rejects.toThrow(/unknown command/);
    await client.set('str', 'x');
    await expect(client.lpush('str', SECRET)).rejects.toThrow(/WRONGTYPE/);
    await waitUntil(() => byKind(monitor, 'error').length === 2, 'two errors');
    const [unknown, wrongType] = byKind(monitor, 'error');
    expect(unknown?.metadata).toEqual({ command: 'nosuchcommand' });
    expect(unknown?.error).toMatch(/^ERR unknown command/);
    expect(wrongType?.metadata).toEqual({ command: 'lpush' });
    expect(wrongType?.error).toMatch(/^WRONGTYPE/);
    expect(JSON.stringify(eventsOf(monitor))).not.toContain(SECRET);
  });

  it('records pipelined commands one by one', async () => {
    const monitor = newMonitor();
    const client = newClient();
    disposeAfterTest(monitorRedisClient(client, monitor, { requestEvents: false }));
    await client.connect();
    await client.pipeline().set('a', '1').incr('a').get('a').exec();
    await waitUntil(() => byKind(monitor, 'response').length >= 3, 'three responses');
    expect(byKind(monitor, 'response').map((e) => e.metadata?.command)).toEqual(
      expect.arrayContaining(['set', 'incr', 'get']),
    );
  });

  it('records close, reconnect, errors, connect and ready when the server is killed and restarted', async () => {
    const monitor = newMonitor();
    const client = newClient();
    disposeAfterTest(monitorRedisClient(client, monitor, { commands: 'none' }));
    await client.connect();
    await waitUntil(() => kinds(monitor).includes('ready'), 'ready');
    const start = eventsOf(monitor).length;
    await server.kill();
    await waitUntil(() => byKind(monitor, 'reconnect').length >= 2, 'reconnects', {
      timeoutMs: 10_000,
    });
    await server.restart();
    await waitUntil(() => byKind(monitor, 'ready').length === 2, 'ready again', {
      timeoutMs: 10_000,
    });
    const after = eventsOf(monitor).slice(start);
    const seq = after.map((e) => e.kind);
    expect(seq[0]).toBe('close');
    expect(seq[1]).toBe('reconnect');
    expect(seq).toContain('error');
    expect(seq.slice(-2)).toEqual(['connect', 'ready']);
    expect(after[0]?.metadata?.connectedMs).toBeGreaterThan(0); // time connected before the loss
    expect(after[0]?.durationMs).toBeUndefined();
    const reconnects = byKind(monitor, 'reconnect');
    expect(reconnects[0]?.metadata).toEqual({ attempt: 1, delayMs: 50 });
    expect(reconnects[1]?.metadata).toEqual({ attempt: 2, delayMs: 50 });
    expect(byKind(monitor, 'error')[0]?.error).toContain('ECONNREFUSED');
    // Commands work again, and no command events were recorded with commands: 'none'.
    expect(await client.ping()).toBe('PONG');
    expect(byKind(monitor, 'request')).toHaveLength(0);

    await client.quit();
    await waitUntil(() => kinds(monitor).at(-1) === 'disconnect', 'disconnect');
    expect(kinds(monitor).slice(-2)).toEqual(['close', 'disconnect']);
  });

  it('samples commands at the configured rate', async () => {
    const monitor = newMonitor();
    const client = newClient();
    disposeAfterTest(monitorRedisClient(client, monitor, { commands: { sampleRate: 0.25 } }));
    await client.connect();
    const n = 800;
    await Promise.all(Array.from({ length: n }, (_, i) => client.set(`s${i}`, i)));
    const responses = byKind(monitor, 'response').length;
    // Binomial(800, 0.25): mean 200, sd ≈ 12; ±5 sd.
    expect(responses).toBeGreaterThan(140);
    expect(responses).toBeLessThan(260);
    expect(byKind(monitor, 'request').length).toBe(responses);
  });

  it('stops recording after dispose and removes its sendCommand; dispose is idempotent', async () => {
    const monitor = newMonitor();
    const client = newClient();
    const dispose = monitorRedisClient(client, monitor);
    await client.connect();
    expect(Object.hasOwn(client, 'sendCommand')).toBe(true);
    await client.ping();
    dispose();
    dispose();
    expect(Object.hasOwn(client, 'sendCommand')).toBe(false);
    const count = eventsOf(monitor).length;
    await client.ping();
    await client.set('x', 'y');
    client.disconnect();
    await waitUntil(() => client.status === 'end', 'end');
    expect(eventsOf(monitor)).toHaveLength(count);
  });

  it('guards against a second attach', () => {
    const monitor = newMonitor();
    const client = newClient();
    disposeAfterTest(monitorRedisClient(client, monitor));
    const second = thrownMonitorError(() => monitorRedisClient(client, monitor), 'CM_ERR_CONFIG');
    expect(second.field).toBe('target');
    expect(() => monitorRedisClient(client, monitor, { commands: { sampleRate: 2 } })).toThrow(
      expect.objectContaining({ code: 'CM_ERR_CONFIG', field: 'commands.sampleRate' }),
    );
  });

  it('never records the monitor’s own clients: refused when marked, silent once marked later', async () => {
    const warnings: string[] = [];
    const monitor = newMonitor({ ...silentLogger, warn: (_o, msg) => warnings.push(msg ?? '') });
    const own = markInternalClient(newClient());
    expect((own as unknown as Record<symbol, unknown>)[INTERNAL_CLIENT]).toBe(true);
    const dispose = monitorRedisClient(own, monitor);
    await own.connect();
    await own.set('batch', 'x');
    expect(Object.hasOwn(own, 'sendCommand')).toBe(false);
    expect(monitor.getTypes()).toEqual([]);
    expect(warnings).toHaveLength(1);
    dispose();
    monitorRedisClient(own, monitor)(); // refused again (no guard error), but warned only once
    expect(warnings).toHaveLength(1);

    const later = newClient();
    disposeAfterTest(monitorRedisClient(later, monitor, { type: 'cache' }));
    await later.connect();
    await later.ping();
    const count = byKind(monitor, 'response', 'cache').length;
    expect(count).toBeGreaterThan(0);
    markInternalClient(later);
    await later.ping();
    await later.set('k', 'v');
    expect(byKind(monitor, 'response', 'cache')).toHaveLength(count);
  });

  it('never breaks the client: closed monitor detaches, rejected events go to onError', async () => {
    const monitor = newMonitor();
    const client = newClient();
    disposeAfterTest(monitorRedisClient(client, monitor));
    await monitor.close();
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    expect(Object.hasOwn(client, 'sendCommand')).toBe(false); // detached itself

    const errors: unknown[] = [];
    const m2 = new ConnectionMonitor({ persistence: false, logger: silentLogger, maxTypes: 1 });
    m2.recordEvent('other', { kind: 'connect' });
    disposeAfterTest(
      monitorRedisClient(client, m2, {
        onError: (err) => {
          errors.push(err);
          throw new Error('onError throws too');
        },
      }),
    );
    expect(await client.set('a', 'b')).toBe('OK');
    expect(await client.get('a')).toBe('b');
    expect(errors.length).toBe(4);
    expect(isMonitorError(errors[0], 'CM_ERR_INVALID_EVENT')).toBe(true);
  });
});

describe('monitorRedisClient with a Redis Cluster (one node holding every slot)', () => {
  let redisCluster: TestRedisCluster;
  beforeAll(async () => {
    redisCluster = await startRedisCluster(1);
  });
  afterAll(async () => {
    await redisCluster?.stop();
  });

  it('records ready and command latency through the Cluster client', async () => {
    const monitor = newMonitor();
    const cluster = new Cluster(redisCluster.startupNodes, { lazyConnect: true });
    cluster.on('error', () => {});
    onTestFinished(() => cluster.disconnect());
    disposeAfterTest(monitorRedisClient(cluster, monitor, { type: 'redis-cluster' }));
    await cluster.connect();
    await waitUntil(() => kinds(monitor, 'redis-cluster').includes('ready'), 'ready', {
      timeoutMs: 10_000,
    });
    await cluster.set(`{t}:${SECRET}`, SECRET);
    expect(await cluster.get(`{t}:${SECRET}`)).toBe(SECRET);
    await waitUntil(() => byKind(monitor, 'response', 'redis-cluster').length >= 2, 'responses');
    expect(byKind(monitor, 'response', 'redis-cluster').map((e) => e.metadata?.command)).toEqual(
      expect.arrayContaining(['set', 'get']),
    );
    expect(JSON.stringify(eventsOf(monitor, 'redis-cluster'))).not.toContain(SECRET);
    await cluster.quit();
    await waitUntil(() => kinds(monitor, 'redis-cluster').includes('disconnect'), 'disconnect');
  });
});
