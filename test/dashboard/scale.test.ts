/**
 * Many connection types in a real Chromium: with 40 types the cards give way to the compact
 * table, sorted worst first (error rate, then p95 latency), filterable by name, and the charts —
 * drawing the eight worst types — stay on the first screen of a 1280×800 viewport.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectErrors, FORBIDDEN_TEXT, launchBrowser, waitForDashboard } from './browser.js';
import { startDashboardServer, type DashboardServer } from './fixture.js';

const VIEWPORT = { width: 1280, height: 800 };

/** What each type records: 100 events, `errors` of them errors, all of `durationMs`. */
interface Truth {
  type: string;
  errors: number;
  durationMs: number;
}

/**
 * 40 types. Errors repeat in pairs (i and i + 20 have the same count), so the p95 decides their
 * order; durations are 15 % apart (more than the histogram's ±4.4 %) so the p95 order is exact.
 */
const TRUTHS: Truth[] = Array.from({ length: 40 }, (_, i) => ({
  type: `t${String(i).padStart(2, '0')}`,
  errors: (i * 7) % 20,
  durationMs: Math.round(10 * 1.15 ** ((i * 13) % 40) * 100) / 100,
}));
/** Worst first: more errors (same event count: higher error rate), then higher p95. */
const WORST_FIRST = [...TRUTHS]
  .sort((a, b) => b.errors - a.errors || b.durationMs - a.durationMs)
  .map((t) => t.type);

let service: DashboardServer;
let browser: Browser;
let page: Page;
let errors: string[];

const rowTypes = (p: Page) =>
  p.$$eval('[data-testid="type-rows"] tr', (rows) =>
    rows.map((r) => (r as HTMLElement).dataset.type),
  );

beforeAll(async () => {
  service = await startDashboardServer({ seedEvents: 0, trafficIntervalMs: 0 });
  for (const t of TRUTHS) {
    for (let i = 0; i < 100; i++) {
      const isError = i < t.errors;
      service.monitor.recordEvent(t.type, {
        kind: isError ? 'error' : 'response',
        durationMs: t.durationMs,
        error: isError ? 'HTTP 503' : undefined,
      });
    }
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: VIEWPORT });
  errors = collectErrors(page);
  await page.goto(service.url);
  await waitForDashboard(page);
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

describe('dashboard with 40 connection types', () => {
  it('shows the compact table instead of cards, worst first', async () => {
    await page.waitForSelector('[data-testid="type-table"]', { state: 'visible' });
    expect(await page.isHidden('#cards')).toBe(true);
    expect(await page.locator('.card').count()).toBe(0);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="type-rows"] tr').length === 40,
    );
    expect(await rowTypes(page)).toEqual(WORST_FIRST);
    // The worst row's numbers (errors of 100 events, so the rate in percent too, and the p95).
    const worst = page.locator('[data-testid="type-rows"] tr').first();
    expect(await worst.getAttribute('data-type')).toBe(WORST_FIRST[0]);
    const truth = TRUTHS.find((t) => t.type === WORST_FIRST[0]) as Truth;
    expect(await worst.locator('.col-errors').textContent()).toBe(String(truth.errors));
    expect(await worst.locator('.col-errorRate').textContent()).toBe(
      `${truth.errors.toFixed(1)} %`,
    );
    const p95 = Number.parseFloat((await worst.locator('.col-p95').textContent()) ?? '');
    const expectedP95 = truth.durationMs >= 1000 ? truth.durationMs / 1000 : truth.durationMs;
    expect(Math.abs(p95 - expectedP95) / expectedP95).toBeLessThan(0.05);
  });

  it('filters the table by name', async () => {
    await page.fill('#type-filter', 't1');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="type-rows"] tr').length === 10,
    );
    expect(await rowTypes(page)).toEqual(WORST_FIRST.filter((t) => t.startsWith('t1')));
    expect(await page.textContent('.type-table-bar .panel-note')).toBe('10 of 40 types match');
    await page.fill('#type-filter', 'no-such-type');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="type-rows"] tr').length === 0,
    );
    await page.fill('#type-filter', '');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="type-rows"] tr').length === 40,
    );
  });

  it('keeps the charts on the first screen, drawing the eight worst types', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    for (const id of ['chart-events', 'chart-errors']) {
      const box = await page.locator(`#${id} canvas`).boundingBox();
      expect(box).not.toBeNull();
      expect(box!.y).toBeGreaterThanOrEqual(0);
      expect(box!.y + box!.height).toBeLessThanOrEqual(VIEWPORT.height);
      expect(
        await page.$eval(`#${id}`, (n) => Number((n as HTMLElement).dataset.points ?? '0')),
      ).toBeGreaterThan(0);
    }
    const drawn = await page.$$eval('#chart-events .u-legend .u-series th', (cells) =>
      cells.map((c) => c.textContent?.trim()).slice(1),
    );
    expect(drawn).toEqual(WORST_FIRST.slice(0, 8).sort());
    expect(await page.locator('#gauges [role="meter"]').count()).toBe(8);
    expect(await page.locator('#error-bars .bar-row').count()).toBe(8);
    // Every type is still a choice for the latency chart.
    expect(await page.locator('#latency-type option').count()).toBe(41);
  });

  it('shows no Invalid Date, NaN or undefined and no console errors', async () => {
    expect(await page.evaluate(() => document.body.innerText)).not.toMatch(FORBIDDEN_TEXT);
    expect(errors).toEqual([]);
  });
});
