/**
 * Child process for the crash test: records `perTick` events every 20 ms into a Redis-backed
 * monitor and prints the running count after each tick, until it is killed.
 * Args: redisUrl keyPrefix perTick batchSize
 */
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';

const [url, prefix, perTick, batchSize] = process.argv.slice(2);
const monitor = new ConnectionMonitor({
  redisUrl: url,
  keyPrefix: prefix,
  flushIntervalMs: 200,
  batchSize: Number(batchSize),
  maxQueueSize: 1_000,
  logger: silentLogger,
});
await monitor.start();
let recorded = 0;
setInterval(() => {
  for (let i = 0; i < Number(perTick); i++) {
    monitor.recordEvent('glm', { kind: 'response', durationMs: 1 });
    recorded++;
  }
  process.stdout.write(`recorded ${recorded}\n`);
}, 20);
