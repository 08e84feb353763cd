/**
 * The fleet heartbeat's Redis cost at default settings (heartbeat 5 s, batch 100, flush 5 s),
 * against the writer's, in a private redis-server (target: ≤ 1 % of the writer's Redis time).
 *
 * Per beat: an idle monitor beating every 20 ms for 3 s, its snapshot holding the same 6 types as
 * the writer's (a beat is TIME, a MULTI of SET / ZADD / ZREMRANGEBYSCORE / PEXPIRE, and the fleet
 * tail's EXISTS, which runs at the heartbeat's interval). Per event: one writer on defaults at
 * 1,000 events/s for 4 s (its write script's time; its own 5-s beats taken out of its CPU). Both
 * as command time (`INFO commandstats`) and as Redis CPU (`INFO cpu`, idle removed), 3 interleaved
 * rounds, median. Printed: the heartbeat's share of the writer's time at 1,000 and 100 events/s,
 * and the rate below which it passes 1 %.
 *
 * Bounded: 3 rounds of 3 s + 4 s (~25 s).
 */
import { Redis } from 'ioredis';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_TYPES, recordPaced } from './_paced.js';
import { startRedis } from './_redis.js';
import { cost, loadAverage, measureIdle, sample, type Shard } from './_redis-cost.js';
import { median, printTable } from './_util.js';

/** The writer's events per second. */
const RATE = 1_000;
const DEFAULT_HEARTBEAT_MS = 5_000;
const TYPES = [...BENCH_TYPES];

console.log(`load average at start: ${loadAverage()} (2 cores)`);
const redis = await startRedis();
const client = new Redis(redis.url);
const shard: Shard = { name: 'redis', port: redis.port, client, idleCpu: 0 };
await measureIdle([shard], 2_000);

// The writer: one monitor on defaults (heartbeat 5 s) at RATE for 4 s per round.
const writer = new ConnectionMonitor({
  redisUrl: redis.url,
  keyPrefix: 'bench_writer',
  instanceId: 'bench-writer',
  logger: silentLogger,
});
await writer.start();
const beatCpu: number[] = [];
const beatCmd: number[] = [];
const eventCpu: number[] = [];
const eventScript: number[] = [];
let beats = 0;
let written = 0;
for (let round = 0; round < 3; round++) {
  // Rounds interleave, so the machine's noise hits both measures alike.
  // Cost per beat: an idle monitor beating every 20 ms for 3 s, with as many types in its
  // snapshot as the writer's (one event each, written before the window).
  const idle = new ConnectionMonitor({
    redisUrl: redis.url,
    keyPrefix: 'bench_heartbeat',
    instanceId: 'bench-heartbeat',
    heartbeatMs: 20,
    logger: silentLogger,
  });
  await idle.start();
  for (const type of TYPES) idle.recordEvent(type, { kind: 'response', durationMs: 1 });
  await idle.flush();
  await client.config('RESETSTAT');
  let before = await sample(client);
  await sleep(3_000);
  let after = await sample(client);
  await idle.close();
  const n = after.calls.time?.calls ?? 0;
  const c = cost(shard, before, after);
  beats += n;
  beatCpu.push((c.cpuMs * 1000) / n);
  beatCmd.push((c.commandMs * 1000) / n);

  // The writer's script time and CPU per event; its own beats (every 5 s) taken out of the CPU.
  await client.config('RESETSTAT');
  before = await sample(client);
  const persistedBefore = writer.getStatus().persistence.persisted;
  await recordPaced(writer, TYPES, RATE, 4);
  await writer.flush();
  after = await sample(client);
  const persisted = writer.getStatus().persistence.persisted - persistedBefore;
  written += persisted;
  const script = (after.calls.evalsha?.usec ?? 0) + (after.calls.eval?.usec ?? 0);
  const writerBeats = after.calls.time?.calls ?? 0;
  eventScript.push(script / persisted);
  eventCpu.push(
    (cost(shard, before, after).cpuMs * 1000 - writerBeats * (beatCpu.at(-1) as number)) /
      persisted,
  );
}
await writer.close();
const beatCpuUs = median(beatCpu);
const beatCmdUs = median(beatCmd);
const writerCpuUs = median(eventCpu);
const scriptUs = median(eventScript);
const share = (beatUs: number, perEventUs: number, rate: number) =>
  beatUs / (DEFAULT_HEARTBEAT_MS / 1000) / (rate * perEventUs);
const atOnePercent = (beatUs: number, perEventUs: number) =>
  beatUs / (DEFAULT_HEARTBEAT_MS / 1000) / (0.01 * perEventUs);
console.log(
  `\nHeartbeat cost (${beats} beats measured, writer ${written.toLocaleString('en-US')} events at ${RATE.toLocaleString('en-US')}/s on defaults; 3 interleaved rounds, median):`,
);
printTable(
  (
    [
      ['command time (INFO commandstats)', beatCmdUs, scriptUs],
      ['Redis CPU (INFO cpu, idle removed)', beatCpuUs, writerCpuUs],
    ] as const
  ).map(([what, beatUs, perEventUs]) => ({
    measure: what,
    'µs per beat': beatUs,
    'writer µs per event': perEventUs,
    [`share at ${RATE.toLocaleString('en-US')}/s`]: `${(share(beatUs, perEventUs, RATE) * 100).toFixed(3)} %`,
    'share at 100/s': `${(share(beatUs, perEventUs, 100) * 100).toFixed(2)} %`,
    'rate where it is 1 %': `${Math.ceil(atOnePercent(beatUs, perEventUs))} events/s`,
  })),
);
client.disconnect();
console.log(`load average at the end: ${loadAverage()}`);
await redis.stop();
