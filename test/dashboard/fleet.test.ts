/**
 * The dashboard's fleet scope in a real Chromium: three producer processes (separate Node
 * processes, each a ConnectionMonitor with its own instance id) persist known counts to one test
 * Redis, and the service (a fourth instance) serves the dashboard. The page starts on "All
 * instances" with the fleet's totals; picking one instance shows that instance's numbers in the
 * cards, the error-rate bars (from its time series) and the history; the instances table flags a
 * skewed clock and marks a crashed instance stale and a closed one stopped.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { collectErrors, FORBIDDEN_TEXT, launchBrowser, waitForDashboard } from './browser.js';
import { startDashboardServer, type DashboardServer } from './fixture.js';
import type { ProducerPlan } from './fleet-producer.js';
import { startProducer, type Producer } from './producers.js';

const PREFIX = 'cm_dash_fleet';
/** What each producer records: fleet totals api 150/15, db 60/5. */
const PLANS: Record<string, ProducerPlan> = {
  p1: { api: { events: 30, errors: 3 }, db: { events: 10, errors: 0 } },
  p2: { api: { events: 50, errors: 5 }, db: { events: 20, errors: 2 } },
  p3: { api: { events: 70, errors: 7 }, db: { events: 30, errors: 3 } },
};
/** p3's clock runs 3 s ahead of Redis: its skew must be flagged. */
const P3_SKEW_MS = 3_000;

let redis: TestRedis;
let producers: Producer[] = [];
let service: DashboardServer;
let browser: Browser;
let page: Page;
let errors: string[];
const requests: URL[] = [];

const readNumber = (text: string | null) => Number((text ?? '').replace(/,/g, ''));
const cardValue = async (p: Page, type: string, field: string) =>
  readNumber(await p.textContent(`[data-testid="card-${type}"] [data-testid="card-${field}"]`));

/** Waits until `type`'s card shows `events` and `errors`. */
async function waitForCard(p: Page, type: string, events: number, errors: number): Promise<void> {
  await p.waitForFunction(
    ([t, ev, er]) => {
      const read = (f: string) =>
        document
          .querySelector(`[data-testid="card-${t}"] [data-testid="card-${f}"]`)
          ?.textContent?.replace(/,/g, '');
      return read('events') === String(ev) && read('errors') === String(er);
    },
    [type, events, errors] as const,
    { timeout: 10_000 },
  );
}

/** Waits until the error-rate bar of `type` (range totals from the time series) counts `errors`. */
async function waitForErrorBar(p: Page, type: string, errors: number): Promise<void> {
  await p.waitForFunction(
    ([t, n]) =>
      document
        .querySelector(`.bar-row[data-type="${t}"] [data-testid="error-rate"]`)
        ?.textContent?.endsWith(`(${n})`) === true,
    [type, errors] as const,
    { timeout: 10_000 },
  );
}

beforeAll(async () => {
  redis = await startRedis();
  producers = await Promise.all([
    startProducer(redis.url, PREFIX, 'p1', PLANS.p1 as ProducerPlan),
    startProducer(redis.url, PREFIX, 'p2', PLANS.p2 as ProducerPlan),
    startProducer(redis.url, PREFIX, 'p3', PLANS.p3 as ProducerPlan, P3_SKEW_MS),
  ]);
  service = await startDashboardServer({
    seedEvents: 0,
    trafficIntervalMs: 0,
    monitor: {
      persistence: true,
      redisUrl: redis.url,
      keyPrefix: PREFIX,
      instanceId: 'svc',
      heartbeatMs: 500,
      flushIntervalMs: 100,
    },
  });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  errors = collectErrors(page);
  page.on('request', (r: Request) => {
    if (r.url().includes('/api/')) requests.push(new URL(r.url()));
  });
  await page.goto(service.url);
  await waitForDashboard(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await service?.close();
  await Promise.all(producers.map((p) => p.close()));
  await redis?.stop();
});

describe('dashboard fleet scope', () => {
  it('starts on All instances with the fleet totals of three producer processes', async () => {
    expect(await page.$eval('#scope', (s) => (s as HTMLSelectElement).value)).toBe('');
    expect(await page.$eval('#scope', (s) => (s as HTMLElement).dataset.scope)).toBe('all');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="instance-rows"] tr').length === 4,
    );
    await waitForCard(page, 'api', 150, 15);
    await waitForCard(page, 'db', 60, 5);
    await waitForErrorBar(page, 'api', 15);
    await waitForErrorBar(page, 'db', 5);
    expect(await cardValue(page, 'api', 'events')).toBe(150);
    // Fleet reads: stats with scope=fleet, series without an instance.
    expect(requests.some((u) => u.pathname === '/api/stats' && u.search === '?scope=fleet')).toBe(
      true,
    );
    const series = requests.filter((u) => u.pathname === '/api/timeseries');
    expect(series.length).toBeGreaterThan(0);
    expect(series.every((u) => !u.searchParams.has('instance'))).toBe(true);
  });

  it('shows one instance: its own counts in cards, error bars and history', async () => {
    const before = requests.length;
    await page.selectOption('#scope', 'p2');
    await waitForCard(page, 'api', 50, 5);
    await waitForCard(page, 'db', 20, 2);
    await waitForErrorBar(page, 'api', 5);
    await waitForErrorBar(page, 'db', 2);
    await page.waitForSelector('#chart-events[data-scope="p2"]');
    const series = requests.slice(before).filter((u) => u.pathname === '/api/timeseries');
    expect(series.length).toBeGreaterThan(0);
    expect(series.every((u) => u.searchParams.get('instance') === 'p2')).toBe(true);
    expect(new URL(page.url()).searchParams.get('instance')).toBe('p2');
    expect(await page.getAttribute('tr[data-instance="p2"]', 'aria-current')).toBe('true');
    // The history shows p2's events only.
    await page.selectOption('#h-type', 'api');
    await page.waitForFunction(
      () => document.querySelectorAll('#h-body tr.event-row').length === 50,
      undefined,
      { timeout: 10_000 },
    );
    const owners = await page.$$eval('#h-body tr.event-row .col-instance', (cells) =>
      cells.map((c) => c.textContent),
    );
    expect(new Set(owners)).toEqual(new Set(['p2']));

    // Another instance, picked from the table.
    await page.click('button[data-pick="p3"]');
    await waitForCard(page, 'api', 70, 7);
    await waitForErrorBar(page, 'api', 7);
  });

  it('flags a clock skew above 1 s and marks crashed and stopped instances', async () => {
    const skew = (id: string) =>
      page.getAttribute(`tr[data-instance="${id}"] [data-testid="instance-skew"]`, 'data-flagged');
    expect(await skew('p3')).toBe('true');
    expect(await skew('p1')).toBe('false');
    expect(await page.textContent('tr[data-instance="p3"] [data-testid="instance-skew"]')).toMatch(
      /^\+(2\.\d\d|3\.\d\d) s/,
    );
    await (producers[0] as Producer).crash();
    await (producers[1] as Producer).stop();
    const state = (id: string) =>
      page.getAttribute(`tr[data-instance="${id}"] [data-testid="instance-state"]`, 'data-state');
    await page.waitForFunction(
      () =>
        document.querySelector('tr[data-instance="p1"]')?.getAttribute('data-state') === 'stale' &&
        document.querySelector('tr[data-instance="p2"]')?.getAttribute('data-state') === 'stopped',
      undefined,
      { timeout: 10_000 },
    );
    expect(await state('p1')).toBe('stale');
    expect(await page.textContent('tr[data-instance="p1"] [data-testid="instance-state"]')).toBe(
      'stale',
    );
    expect(await state('p3')).toBe('alive');
    // The picker says so too.
    expect(await page.textContent('#scope option[value="p1"]')).toContain('stale');
  });

  it('back on All instances, the fleet totals survive a crashed and a stopped instance', async () => {
    await page.selectOption('#scope', '');
    await waitForCard(page, 'api', 150, 15);
    await waitForErrorBar(page, 'api', 15);
    expect(await page.evaluate(() => document.body.innerText)).not.toMatch(FORBIDDEN_TEXT);
    expect(errors).toEqual([]);
  });
});
