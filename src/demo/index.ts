/**
 * Demo mode (`connection-monitor serve --demo`, `npm start`): real local traffic for all five
 * connection types, recorded into the given monitor.
 */
import type { ConnectionMonitor } from '../monitor.js';
import { startHttpTraffic } from './http-traffic.js';
import { startRedisTraffic } from './redis-traffic.js';
import { startWebSocketTraffic } from './ws-traffic.js';

/** A running demo. */
export interface Demo {
  /** True when the demo's Redis client connected at start. */
  readonly isRedisReachable: boolean;
  /** Stops every timer, socket and server of the demo. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Redis the demo sends commands to (the monitor's `redisUrl`). */
  redisUrl: string;
}

/** Starts WebSocket, Redis and HTTP (Supabase, Kimi, GLM stand-ins) traffic. */
export async function startDemo(monitor: ConnectionMonitor, options: DemoOptions): Promise<Demo> {
  const parts: { close(): Promise<void> }[] = [];
  let isRedisReachable = false;
  try {
    parts.push(await startWebSocketTraffic(monitor));
    const redis = await startRedisTraffic(monitor, options.redisUrl);
    parts.push(redis);
    isRedisReachable = redis.isReachable;
    parts.push(await startHttpTraffic(monitor));
  } catch (err) {
    // Stop what did start, so a failed start leaves no timers or sockets behind.
    await Promise.allSettled(parts.map((p) => p.close()));
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    isRedisReachable,
    close() {
      closing ??= Promise.all(parts.map((p) => p.close())).then(() => undefined);
      return closing;
    },
  };
}
