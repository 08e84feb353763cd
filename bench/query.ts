/**
 * Query benchmarks against a private redis-server holding 1,000,000 events of one type spread
 * over the last 24 h:
 *  1. getTimeSeriesData for 24 h at 1-minute buckets (target median ≤ 20 ms), beside the same
 *     answer computed by scanning the raw sorted set (ratio printed);
 *  2. a page of 100 historical events (target median ≤ 5 ms), beside a bare ZRANGE of 100.
 */
import { Redis } from 'ioredis';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { buildPoints, minuteOf } from '../src/core/time-series.js';
import { addEvent, emptyRollup, type Rollup } from '../src/core/aggregate.js';
import { isErrorEvent, type ConnectionEvent } from '../src/core/event.js';
import { startRedis } from './_redis.js';
import { median } from './_util.js';

const HOUR = 3_600_000;
const TOTAL = 1_000_000;
const redis = await startRedis();
const prefix = 'bench_query';
const options = {
  redisUrl: redis.url,
  keyPrefix: prefix,
  logger: silentLogger,
  retentionMs: 25 * HOUR,
};

const seed = new ConnectionMonitor({
  ...options,
  batchSize: 1_000,
  maxQueueSize: 100_000,
  flushIntervalMs: 20,
});
await seed.start();
const now = Date.now();
const KINDS = ['request', 'response', 'response', 'error', 'timeout'];
for (let i = 0; i < TOTAL; i++) {
  seed.recordEvent('glm', {
    kind: KINDS[i % 5] as string,
    durationMs: ((i * 7919) % 5000) * 0.1,
    metadata: { status: 200, model: 'glm-4' },
    timestamp: now - 24 * HOUR + Math.floor((i / TOTAL) * 24 * HOUR),
  });
  if (i % 50_000 === 49_999) await seed.flush();
}
await seed.flush();
await seed.close();
console.log(`seeded ${TOTAL.toLocaleString('en-US')} events over 24 h`);

const m = new ConnectionMonitor(options);
await m.start();
const from = now - 24 * HOUR;

// 1. Time series from rollups vs a raw scan.
const series: number[] = [];
let points = 0;
for (let r = 0; r < 25; r++) {
  const t = performance.now();
  const res = await m.getTimeSeriesData({ type: 'glm', from, to: now, bucketMs: 60_000 });
  series.push(performance.now() - t);
  points = res.points.length;
  if (res.source !== 'redis') throw new Error('expected an answer from Redis');
}
const client = new Redis(redis.url);
const scan: number[] = [];
for (let r = 0; r < 3; r++) {
  const t = performance.now();
  const minutes = new Map<number, Rollup>();
  const chunk = 100_000;
  for (let offset = 0; ; offset += chunk) {
    const members = await client.zrange(
      `${prefix}:glm:events`,
      String(from),
      String(now),
      'BYSCORE',
      'LIMIT',
      offset,
      chunk,
    );
    for (const json of members) {
      const e = JSON.parse(json) as ConnectionEvent;
      const minute = minuteOf(e.timestamp);
      let roll = minutes.get(minute);
      if (roll === undefined) minutes.set(minute, (roll = emptyRollup(minute)));
      addEvent(roll, e.kind, e.timestamp, isErrorEvent(e.kind, e.error), e.durationMs);
    }
    if (members.length < chunk) break;
  }
  buildPoints(minutes.values(), from, now, 60_000);
  scan.push(performance.now() - t);
}
const a = median(series);
const b = median(scan);
console.log(
  `time series 24 h @ 1 min (${points} points, 1,000,000 events): ${a.toFixed(1)} ms median (target ≤ 20); raw scan ${b.toFixed(0)} ms; ratio ${(b / a).toFixed(0)}× faster`,
);

// 2. A page of 100, cursor walking back through the set.
const pages: number[] = [];
const raw: number[] = [];
let before: string | null = null;
for (let r = 0; r < 200; r++) {
  const t = performance.now();
  const page = await m.getHistoricalData({ type: 'glm', limit: 100, before });
  pages.push(performance.now() - t);
  before = page.nextBefore;
  const t2 = performance.now();
  await client.zrange(
    `${prefix}:glm:events`,
    '+inf',
    '-inf',
    'BYSCORE',
    'REV',
    'LIMIT',
    r * 100,
    100,
  );
  raw.push(performance.now() - t2);
}
const p = median(pages);
const q = median(raw);
console.log(
  `history page of 100: ${p.toFixed(2)} ms median (target ≤ 5); bare ZRANGE of 100 ${q.toFixed(2)} ms; ratio ${(p / q).toFixed(2)}`,
);
client.disconnect();
await m.close();
await redis.stop();
