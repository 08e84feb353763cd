/**
 * A fleet producer process: one ConnectionMonitor with its own instance id (and optionally a
 * clock `skewMs` ahead of the real one) records `plannedEvents(index)`, flushes, prints
 * `{"flushed":<n>}` and keeps beating until it reads `close` on stdin (then closes cleanly and
 * prints `{"closed":true}`), its stdin ends, or it is killed.
 * Arg: a JSON {@link ProducerConfig}.
 */
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';
import { plannedEvents } from './workload.js';

/** What the parent tells a producer. */
export interface ProducerConfig {
  redisUrl: string;
  clusterNodes?: { host: string; port: number }[];
  keyPrefix: string;
  instanceId: string;
  /** Index into the workload (0…3). */
  index: number;
  /** How far ahead of the real clock this producer's clock runs, ms. */
  skewMs: number;
  heartbeatMs: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ProducerConfig;
const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

const monitor = new ConnectionMonitor({
  redisUrl: config.redisUrl,
  clusterNodes: config.clusterNodes,
  keyPrefix: config.keyPrefix,
  instanceId: config.instanceId,
  heartbeatMs: config.heartbeatMs,
  flushIntervalMs: 50,
  maxQueueSize: 10_000,
  clock: { now: () => Date.now() + config.skewMs },
  logger: silentLogger,
});
await monitor.start();
const events = plannedEvents(config.index);
for (const { type, ...input } of events) monitor.recordEvent(type, input);
await monitor.flush();
say({ flushed: events.length });

let closing: Promise<void> | undefined;
const closeAndExit = () => {
  closing ??= monitor.close().then(() => {
    say({ closed: true });
    process.exit(0);
  });
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text: string) => {
  if (text.includes('close')) closeAndExit();
});
// The parent went away: do not linger.
process.stdin.on('end', closeAndExit);
