/**
 * Child process for the fleet dashboard test: one instance of a fleet. A Redis-backed monitor with
 * its own instance id records a known number of events and errors per type, flushes, prints
 * `ready`, then keeps beating (heartbeat every 500 ms) until it is killed (crash: `stale`, then
 * `gone`) or gets SIGTERM (clean close: `stopped`).
 * Args: redisUrl keyPrefix instanceId plan clockSkewMs, where plan is JSON
 * `{ "<type>": { "events": n, "errors": m } }` (the first m events of a type are errors).
 */
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';

/** What one producer records per type. */
export type ProducerPlan = Record<string, { events: number; errors: number }>;

const [url, prefix, instanceId, planJson, skewText] = process.argv.slice(2);
const plan = JSON.parse(planJson ?? '{}') as ProducerPlan;
const skewMs = Number(skewText ?? '0');
const monitor = new ConnectionMonitor({
  redisUrl: url,
  keyPrefix: prefix,
  instanceId,
  heartbeatMs: 500,
  flushIntervalMs: 100,
  // Every planned event fits the write queue: none is dropped before the flush.
  maxQueueSize: 100_000,
  batchSize: 1_000,
  logger: silentLogger,
  // A clock ahead of (or behind) Redis by skewMs: its heartbeat reports the skew.
  clock: { now: () => Date.now() + skewMs },
});
await monitor.start();
for (const [type, { events, errors }] of Object.entries(plan)) {
  for (let i = 0; i < events; i++) {
    const isError = i < errors;
    monitor.recordEvent(type, {
      kind: isError ? 'error' : 'response',
      durationMs: 5 + (i % 10),
      error: isError ? 'HTTP 503' : undefined,
    });
  }
}
await monitor.flush();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void monitor.close().then(() => process.exit(0));
});
// The monitor's timers are unref'd: this one keeps the process (and its heartbeat) alive.
setInterval(() => undefined, 60_000);
