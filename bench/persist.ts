/**
 * Persistence benchmarks against a private redis-server:
 *  1. events/s persisted by one process (batch 100 = default, and 1,000), side by side with
 *     `redis-benchmark -P 100` ZADD of same-size members against the same server;
 *  2. drops at a paced 20,000 events/s for 5 s on default settings (target: zero);
 *  3. recordEvent cost with persistence on vs off (target ≤ 1.1×), interleaved rounds;
 *  4. recovery of 5 types × 10,000 events out of 1,000,000 stored (target ≤ 150 ms), beside a
 *     raw ZRANGE of the same members without parsing.
 */
import { spawnSync } from 'node:child_process';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import type { MonitorOptions } from '../src/options.js';
import { startRedis } from './_redis.js';
import { median, printTable } from './_util.js';

const TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'];
const redis = await startRedis();

function monitor(overrides: MonitorOptions): ConnectionMonitor {
  return new ConnectionMonitor({ redisUrl: redis.url, logger: silentLogger, ...overrides });
}

function record(m: ConnectionMonitor, i: number, timestamp?: number): void {
  m.recordEvent(TYPES[i % 5] as string, {
    kind: i % 20 === 0 ? 'error' : 'response',
    durationMs: (i % 997) * 0.37,
    metadata: { status: 200, model: 'glm-4', region: 'eu' },
    timestamp,
  });
}

// 1. Throughput.
async function persistRate(
  batchSize: number,
  n: number,
): Promise<{ rate: number; memberBytes: number }> {
  const m = monitor({
    keyPrefix: `bench_rate_${batchSize}`,
    batchSize,
    maxQueueSize: n,
    flushIntervalMs: 50,
  });
  await m.start();
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    record(m, i);
    if (i % 5_000 === 4_999) await yieldToLoop();
  }
  await m.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sample = JSON.stringify(m.getRecentEvents('glm', 1)[0]);
  await m.close();
  return { rate: n / seconds, memberBytes: Buffer.byteLength(sample) };
}

function redisBenchmarkRate(memberBytes: number, n: number): number {
  // A member of the same size, made unique by __rand_int__.
  const member = `__rand_int__${'x'.repeat(Math.max(0, memberBytes - 12))}`;
  const res = spawnSync(
    'redis-benchmark',
    [
      '-p',
      String(redis.port),
      '-P',
      '100',
      '-n',
      String(n),
      '-r',
      '1000000000',
      '--csv',
      'zadd',
      'bench:zset',
      '__rand_int__',
      member,
    ],
    { encoding: 'utf8' },
  );
  const line = res.stdout.trim().split('\n').at(-1) ?? '';
  const rate = Number(line.split(',')[1]?.replace(/"/g, ''));
  return rate;
}

const rows: Record<string, string | number>[] = [];
const r100 = await persistRate(100, 200_000);
const r1000 = await persistRate(1_000, 200_000);
const rb = redisBenchmarkRate(r100.memberBytes, 1_000_000);
rows.push({
  writer: 'connection-monitor, batch 100 (default)',
  'events/s': Math.round(r100.rate),
  'ratio vs redis-benchmark': (r100.rate / rb).toFixed(2),
});
rows.push({
  writer: 'connection-monitor, batch 1,000',
  'events/s': Math.round(r1000.rate),
  'ratio vs redis-benchmark': (r1000.rate / rb).toFixed(2),
});
rows.push({
  writer: `redis-benchmark -P 100 ZADD (${r100.memberBytes}-byte members)`,
  'events/s': Math.round(rb),
  'ratio vs redis-benchmark': '1.00',
});
printTable(rows);

// 2. Paced 20,000 events/s for 5 s on defaults.
{
  const m = monitor({ keyPrefix: 'bench_paced' });
  await m.start();
  const rate = 20_000;
  const seconds = 5;
  const start = performance.now();
  let sent = 0;
  // Catch up in slices of at most 100 events so a stall never turns into one huge burst.
  while (sent < rate * seconds) {
    const due = Math.min(rate * seconds, Math.floor(((performance.now() - start) / 1000) * rate));
    const slice = Math.min(due, sent + 100);
    while (sent < slice) record(m, sent++);
    await yieldToLoop();
  }
  const elapsed = (performance.now() - start) / 1000;
  await m.flush();
  const s = m.getStatus().persistence;
  console.log(
    `paced: ${sent} events in ${elapsed.toFixed(2)} s (${Math.round(sent / elapsed)}/s), persisted ${s.persisted}, dropped ${s.dropped} (target 0)`,
  );
  await m.close();
}

// 3. recordEvent with persistence on vs off, paced at 100,000 events/s (a rate the writer
//    sustains, so nothing is dropped), interleaved 1-s rounds; only recordEvent calls are timed.
//    Then the same with Redis hung (SIGSTOP): recordEvent must not notice.
async function paced(m: ConnectionMonitor, rate: number, seconds: number): Promise<number> {
  const total = rate * seconds;
  const start = performance.now();
  let ns = 0;
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    const slice = Math.min(due, sent + 100);
    const t = process.hrtime.bigint();
    while (sent < slice) record(m, sent++);
    ns += Number(process.hrtime.bigint() - t);
    await yieldToLoop();
  }
  return ns / total;
}
{
  // A queue large enough that a scheduling hiccup drops nothing: the drop path is not compared.
  const on = monitor({ keyPrefix: 'bench_onoff', maxQueueSize: 100_000, socketTimeoutMs: 500 });
  const off = new ConnectionMonitor({ persistence: false, logger: silentLogger });
  await on.start();
  await paced(on, 100_000, 1);
  await paced(off, 100_000, 1);
  const onNs: number[] = [];
  const offNs: number[] = [];
  for (let r = 0; r < 5; r++) {
    onNs.push(await paced(on, 100_000, 1));
    offNs.push(await paced(off, 100_000, 1));
  }
  await on.flush();
  const a = median(onNs);
  const b = median(offNs);
  console.log(
    `recordEvent at 100,000/s: persistence on ${a.toFixed(0)} ns/op, off ${b.toFixed(0)} ns/op, ratio ${(a / b).toFixed(3)} (target ≤ 1.1); dropped ${on.getStatus().persistence.dropped}`,
  );
  redis.pause();
  const hung: number[] = [];
  for (let r = 0; r < 3; r++) hung.push(await paced(on, 100_000, 1));
  const status = on.getStatus().persistence;
  redis.resume();
  const c = median(hung);
  console.log(
    `recordEvent at 100,000/s with Redis hung (SIGSTOP): ${c.toFixed(0)} ns/op, ratio vs healthy ${(c / a).toFixed(3)}; queue ${status.queueDepth} (bound ${on.options.maxQueueSize}), dropped ${status.dropped}, circuit ${status.circuit}`,
  );
  await on.close();
  await off.close();
}

// 4. Recovery: 1,000,000 stored (200,000 per type), recover the newest 10,000 per type.
{
  const prefix = 'bench_recover';
  const seed = monitor({
    keyPrefix: prefix,
    batchSize: 1_000,
    maxQueueSize: 100_000,
    flushIntervalMs: 20,
  });
  await seed.start();
  const now = Date.now();
  const total = 1_000_000;
  for (let i = 0; i < total; i++) {
    record(seed, i, now - 20 * 3_600_000 + Math.floor((i / total) * 20 * 3_600_000));
    if (i % 50_000 === 49_999) await seed.flush();
  }
  await seed.flush();
  await seed.close();
  const ours: number[] = [];
  for (let r = 0; r < 5; r++) {
    const m = monitor({ keyPrefix: prefix, bufferSize: 10_000 });
    const t = performance.now();
    await m.start();
    ours.push(performance.now() - t);
    if (m.getRecentEvents('glm', 20_000).length !== 10_000) throw new Error('recovery incomplete');
    await m.close();
  }
  const raw: number[] = [];
  const client = new Redis(redis.url);
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await Promise.all(
      TYPES.map((type) =>
        client.zrange(
          `${prefix}:${type}:events`,
          '+inf',
          String(now - 86_400_000),
          'BYSCORE',
          'REV',
          'LIMIT',
          0,
          10_000,
        ),
      ),
    );
    raw.push(performance.now() - t);
  }
  client.disconnect();
  const a = median(ours);
  const b = median(raw);
  console.log(
    `recovery of 5 × 10,000 of 1,000,000 stored: ${a.toFixed(1)} ms median (target ≤ 150), raw ZRANGE without parsing ${b.toFixed(1)} ms, ratio ${(a / b).toFixed(2)}`,
  );
}

await redis.stop();
