/**
 * Redis demo traffic: real commands (SET/GET/INCR/EXPIRE on `cm-demo:*` keys,
 * all expiring within a minute) through ioredis against the configured Redis. Without a reachable
 * Redis it records the connection errors, backing off between attempts.
 */
import { Redis } from 'ioredis';
import type { ConnectionMonitor } from '../monitor.js';
import { recordRedis } from './record.js';
import { DemoTimers, between } from './timers.js';

// Deliberately outside the monitor's own `connection_monitor:*` keyspace.
const KEY = 'cm-demo';

/** Starts the command loop; resolves once the first connection attempt settled. */
export async function startRedisTraffic(
  monitor: ConnectionMonitor,
  redisUrl: string,
): Promise<{ close(): Promise<void>; isReachable: boolean }> {
  const timers = new DemoTimers();
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
  });
  let wasConnected = false;
  client.on('ready', () => {
    recordRedis(monitor, wasConnected ? 'reconnect' : 'connect');
    wasConnected = true;
  });
  client.on('end', () => undefined);
  client.on('close', () => {
    if (wasConnected && !timers.stopped) recordRedis(monitor, 'disconnect');
  });
  client.on('error', (err: Error) => {
    if (!timers.stopped) recordRedis(monitor, 'error', { error: err.message, command: 'connect' });
  });

  let isReachable = false;
  try {
    await client.connect();
    isReachable = true;
  } catch {
    // Recorded by the 'error' listener; ioredis keeps retrying in the background.
  }

  const commands: [string, () => Promise<unknown>][] = [
    ['set', () => client.set(`${KEY}:${between(1, 50)}`, String(Date.now()), 'PX', 60_000)],
    ['get', () => client.get(`${KEY}:${between(1, 50)}`)],
    [
      'incr',
      () => client.incr(`${KEY}:counter`).then(() => client.pexpire(`${KEY}:counter`, 60_000)),
    ],
    [
      'hset',
      () =>
        client
          .hset(`${KEY}:hash`, `f${between(1, 20)}`, 'v')
          .then(() => client.pexpire(`${KEY}:hash`, 60_000)),
    ],
  ];
  let inFlight: Promise<unknown> = Promise.resolve();
  const loop = () => {
    if (client.status === 'ready') {
      const [name, run] = commands[between(0, commands.length - 1)] as [
        string,
        () => Promise<unknown>,
      ];
      const started = performance.now();
      inFlight = run().then(
        () =>
          recordRedis(monitor, 'response', {
            command: name,
            durationMs: performance.now() - started,
          }),
        (err: Error) =>
          recordRedis(monitor, 'error', {
            command: name,
            durationMs: performance.now() - started,
            error: err.message,
          }),
      );
    }
    timers.after(between(80, 300), loop);
  };
  loop();

  return {
    isReachable,
    async close() {
      timers.stop();
      await inFlight.catch(() => undefined);
      client.disconnect(false);
    },
  };
}
