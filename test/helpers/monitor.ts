/** Helpers to build monitors for tests: fast timers, a capturing logger. */
import { ConnectionMonitor } from '../../src/monitor.js';
import type { MonitorOptions } from '../../src/options.js';
import type { Logger } from '../../src/logger.js';

/** A logger that keeps every line (object + message) for assertions. */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: object, msg?: string) => {
    lines.push(
      `${level} ${msg ?? ''} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`,
    );
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A Redis-backed monitor with test-friendly timings; `overrides` win. */
export function redisMonitor(url: string, overrides: MonitorOptions = {}): ConnectionMonitor {
  return new ConnectionMonitor({
    redisUrl: url,
    flushIntervalMs: 50,
    breakerFailures: 3,
    breakerResetMs: 300,
    socketTimeoutMs: 500,
    connectTimeoutMs: 500,
    closeTimeoutMs: 3_000,
    logger: capturingLogger(),
    keyPrefix: `cm_test_${Math.random().toString(36).slice(2, 8)}`,
    ...overrides,
  });
}

/** The five seed connection types. */
export const SEED_TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'] as const;
