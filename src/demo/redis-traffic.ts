/**
 * Redis demo traffic: real commands (SET/GET/INCR/EXPIRE on `cm-demo:*` keys,
 * all expiring within a minute) through ioredis against the configured Redis, recorded by
 * `monitorRedisClient` as in an application. Without a reachable Redis the adapter records the
 * connection errors while ioredis backs off between attempts.
 */
import { Redis } from 'ioredis';
import type { ConnectionMonitor } from '../monitor.js';
import { monitorRedisClient } from '../instrument/redis.js';
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
  // `request` events off: the demo shows latency and errors, at half the event volume.
  const stopInstrumenting = monitorRedisClient(client, monitor, { requestEvents: false });
  client.on('error', () => {}); // recorded by the adapter

  let isReachable = false;
  try {
    await client.connect();
    isReachable = true;
  } catch {
    // Recorded by the adapter; ioredis keeps retrying in the background.
  }

  const commands: (() => Promise<unknown>)[] = [
    () => client.set(`${KEY}:${between(1, 50)}`, String(Date.now()), 'PX', 60_000),
    () => client.get(`${KEY}:${between(1, 50)}`),
    () => client.incr(`${KEY}:counter`).then(() => client.pexpire(`${KEY}:counter`, 60_000)),
    () =>
      client
        .hset(`${KEY}:hash`, `f${between(1, 20)}`, 'v')
        .then(() => client.pexpire(`${KEY}:hash`, 60_000)),
  ];
  let inFlight: Promise<unknown> = Promise.resolve();
  const loop = () => {
    if (client.status === 'ready') {
      const run = commands[between(0, commands.length - 1)] as () => Promise<unknown>;
      inFlight = run().catch(() => undefined); // failures are recorded by the adapter
    }
    timers.after(between(80, 300), loop);
  };
  loop();

  return {
    isReachable,
    async close() {
      timers.stop();
      await inFlight;
      stopInstrumenting(); // shutdown is not an outage: no close/disconnect events
      client.disconnect(false);
    },
  };
}
