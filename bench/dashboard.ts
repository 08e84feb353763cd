/**
 * Dashboard first render in the test browser (Debian Chromium via playwright-core), against a
 * real service (createMonitoringServer, memory mode):
 * - seeded: 24 h of history, 1,000,000 events across the five types, page opened on the 24 h range
 *   (6 time-series queries of 288 five-minute buckets, the first history page, live stats);
 * - the same history persisted to a private redis-server (when one is on PATH) and served from
 *   Redis, as in production;
 * - baseline: the same page against a service with an empty history, in the same run.
 * Measured: `performance.mark('cm:charts-drawn')` — set by the app after status, cards, every
 * chart and the first history page are drawn — relative to navigation start, in a fresh browser
 * context (cold cache) each time. 7 interleaved rounds, median. Target: seeded ≤ 1,500 ms.
 */
import setupDashboard from '../test/dashboard/global-setup.js';
import { launchBrowser } from '../test/dashboard/browser.js';
import { startDashboardServer, type DashboardServer } from '../test/dashboard/fixture.js';
import { startRedis, type TestRedis } from '../test/helpers/redis-server.js';
import { median, printTable } from './_util.js';

const EVENTS = 1_000_000;
const ROUNDS = 7;
const TARGET_MS = 1_500;

setupDashboard();
const seedStart = performance.now();
const seeded = await startDashboardServer({ seedEvents: EVENTS, trafficIntervalMs: 0 });
const seedMs = performance.now() - seedStart;
const empty = await startDashboardServer({ seedEvents: 0, trafficIntervalMs: 0 });
let redis: TestRedis | undefined;
let fromRedis: DashboardServer | undefined;
try {
  redis = await startRedis();
  fromRedis = await startDashboardServer({
    seedEvents: EVENTS,
    trafficIntervalMs: 0,
    monitor: {
      persistence: true,
      redisUrl: redis.url,
      maxQueueSize: 2_000_000,
      batchSize: 5_000,
      flushIntervalMs: 50,
    },
  });
} catch (err) {
  console.log(`no Redis row: ${err instanceof Error ? err.message : String(err)}`);
}
const browser = await launchBrowser();

async function firstRender(url: string): Promise<{ drawnMs: number; points: number }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${url}/?range=24h`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30_000 });
  const result = await page.evaluate(() => ({
    drawnMs: performance.getEntriesByName('cm:charts-drawn')[0]?.startTime ?? Number.NaN,
    points: Number(document.querySelector<HTMLElement>('#chart-events')?.dataset.points ?? 0),
  }));
  await context.close();
  return result;
}

try {
  // Warm-up: the first Chromium context pays for process start-up.
  await firstRender(empty.url);
  await firstRender(seeded.url);
  if (fromRedis !== undefined) await firstRender(fromRedis.url);
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  let points = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const s = await firstRender(seeded.url);
    a.push(s.drawnMs);
    points = s.points;
    if (fromRedis !== undefined) c.push((await firstRender(fromRedis.url)).drawnMs);
    b.push((await firstRender(empty.url)).drawnMs);
  }
  const seededMs = median(a);
  const emptyMs = median(b);
  console.log(
    `seeded ${EVENTS.toLocaleString('en-US')} events over 24 h in ${seedMs.toFixed(0)} ms`,
  );
  printTable([
    {
      page: `24 h range, ${EVENTS.toLocaleString('en-US')} events`,
      'charts drawn ms (median of 7)': Math.round(seededMs),
      'min ms': Math.round(Math.min(...a)),
      'max ms': Math.round(Math.max(...a)),
      'chart points': points,
    },
    ...(c.length === 0
      ? []
      : [
          {
            page: `same, persisted and served from Redis`,
            'charts drawn ms (median of 7)': Math.round(median(c)),
            'min ms': Math.round(Math.min(...c)),
            'max ms': Math.round(Math.max(...c)),
            'chart points': points,
          },
        ]),
    {
      page: 'baseline: empty history',
      'charts drawn ms (median of 7)': Math.round(emptyMs),
      'min ms': Math.round(Math.min(...b)),
      'max ms': Math.round(Math.max(...b)),
      'chart points': 0,
    },
  ]);
  if (c.length > 0) console.log(`ratio Redis / empty = ${(median(c) / emptyMs).toFixed(2)}`);
  console.log(
    `ratio seeded / empty = ${(seededMs / emptyMs).toFixed(2)}; seeded ${Math.round(seededMs)} ms (target ≤ ${TARGET_MS} ms: ${seededMs <= TARGET_MS ? 'met' : 'MISSED'})`,
  );
} finally {
  await browser.close();
  await seeded.close();
  await empty.close();
  await fromRedis?.close();
  await redis?.stop();
}
