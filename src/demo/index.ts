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
  const [ws, redis, http] = await Promise.all([
    startWebSocketTraffic(monitor),
    startRedisTraffic(monitor, options.redisUrl),
    startHttpTraffic(monitor),
  ]);
  let closing: Promise<void> | undefined;
  return {
    isRedisReachable: redis.isReachable,
    close() {
      closing ??= Promise.all([ws.close(), redis.close(), http.close()]).then(() => undefined);
      return closing;
    },
  };
}
