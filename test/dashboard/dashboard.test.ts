/**
 * The dashboard in a real Chromium against a real service (createMonitoringServer, memory mode)
 * with seeded history and demo traffic. No API mocks; waits on selectors and conditions only.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAfterTest } from '../helpers/after-test.js';
import { waitUntil } from '../helpers/wait.js';
import {
  collectErrors,
  cspViolations,
  FORBIDDEN_TEXT,
  launchBrowser,
  parsePolicy,
  recordCspViolations,
  waitForCounterToGrow,
  waitForDashboard,
  waitForLiveState,
} from './browser.js';
import {
  DEMO_TYPES,
  HTML_METADATA,
  startDashboardServer,
  type DashboardServer,
} from './fixture.js';

let service: DashboardServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];

const chartPoints = (p: Page, id: string) =>
  p.$eval(`#${id}`, (node) => Number((node as HTMLElement).dataset.points ?? '0'));
const firstRowId = (p: Page) =>
  p.$eval('#h-body tr.event-row', (row) => (row as HTMLElement).dataset.id ?? '');
const rowCount = (p: Page) => p.$$eval('#h-body tr.event-row', (rows) => rows.length);
/** The texts of one column ('type', 'kind', …) of the history table's rows. */
const columnTexts = (p: Page, column: string) =>
  p.$$eval(`#h-body tr.event-row .col-${column}`, (cells) => cells.map((c) => c.textContent));

/** Waits for the history table to settle after an action (the summary and page number update). */
async function waitForPage(p: Page, pageNo: number): Promise<void> {
  await p.waitForFunction(
    (n) =>
      document.querySelector('#h-body')?.getAttribute('data-page') === String(n) &&
      !document.querySelector('#h-table')?.hasAttribute('aria-busy'),
    pageNo,
    { timeout: 10_000 },
  );
}

beforeAll(async () => {
  service = await startDashboardServer({ seedEvents: 20_000, trafficIntervalMs: 20 });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  errors = collectErrors(page);
  await page.goto(service.url);
  await waitForDashboard(page);
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

describe('dashboard', () => {
  it('shows one card per connection type with numbers', async () => {
    for (const type of DEMO_TYPES) {
      const card = page.locator(`[data-testid="card-${type}"]`);
      await card.waitFor();
      const events = await card.locator('[data-testid="card-events"]').textContent();
      expect(Number(events?.replace(/,/g, ''))).toBeGreaterThan(0);
      expect(await card.locator('[data-testid="card-p95"]').textContent()).toMatch(/\d/);
      expect(await card.locator('[data-testid="card-last"]').textContent()).toMatch(
        /\d{2}:\d{2}:\d{2}\.\d{3}/,
      );
    }
  });

  it('draws every chart with data', async () => {
    expect(await chartPoints(page, 'chart-events')).toBeGreaterThan(DEMO_TYPES.length);
    expect(await chartPoints(page, 'chart-errors')).toBeGreaterThan(DEMO_TYPES.length);
    expect(await chartPoints(page, 'chart-latency')).toBeGreaterThan(3);
    expect(await page.locator('#chart-events canvas').count()).toBe(1);
    expect(await page.locator('.spark canvas').count()).toBe(DEMO_TYPES.length);
    expect(await page.locator('#gauges [role="meter"]').count()).toBe(DEMO_TYPES.length);
    const rates = await page.locator('[data-testid="error-rate"]').allTextContents();
    expect(rates).toHaveLength(DEMO_TYPES.length);
    for (const r of rates) expect(r).toMatch(/%/);
  });

  it('updates a live counter within a few seconds', async () => {
    await waitForCounterToGrow(page, 'redis');
    expect(await page.locator('#live').getAttribute('data-state')).toBe('live');
  });

  it('streams new events into the live list and pauses it', async () => {
    await page.waitForFunction(() => document.querySelectorAll('.tail-row').length >= 3);
    await page.getByRole('button', { name: 'Pause the live event list' }).click();
    const newest = await page.locator('.tail-row').first().textContent();
    await page.waitForFunction(() =>
      /paused · [1-9]/.test(document.querySelector('.tail-bar')?.textContent ?? ''),
    );
    expect(await page.locator('.tail-row').first().textContent()).toBe(newest);
    await page.getByRole('button', { name: 'Resume the live event list' }).click();
    await page.waitForFunction(
      (n) => document.querySelector('.tail-row')?.textContent !== n,
      newest,
    );
  });

  it('switches the range: 24 h uses 5-minute buckets', async () => {
    const before = await chartPoints(page, 'chart-events');
    await page.getByText('24 h', { exact: true }).click();
    await page.waitForFunction(() =>
      document.querySelector('.range-note')?.textContent?.includes('24 h'),
    );
    // 24 h of 5-min buckets (≈288 per type) is more than 1 h of 1-min buckets (≈60 per type).
    await waitUntil(
      async () => (await chartPoints(page, 'chart-events')) > before * 3,
      'more than three times as many chart points',
      { timeoutMs: 10_000 },
    );
    await page.getByText('1 h', { exact: true }).click();
    await page.waitForFunction(() =>
      document.querySelector('.range-note')?.textContent?.includes('1 h'),
    );
  });

  it('pages the history back and forth', async () => {
    await page.selectOption('#h-type', 'redis');
    await waitForPage(page, 1);
    await page.waitForSelector('#h-body tr.event-row');
    const first = await firstRowId(page);
    expect(await rowCount(page)).toBe(50);
    await page.click('#h-older');
    await waitForPage(page, 2);
    const second = await firstRowId(page);
    expect(second).not.toBe(first);
    expect(await page.locator('#h-summary').textContent()).toContain('Page 2');
    await page.click('#h-older');
    await waitForPage(page, 3);
    const third = await firstRowId(page);
    expect(new Set([first, second, third]).size).toBe(3);
    await page.click('#h-newer');
    await waitForPage(page, 2);
    expect(await firstRowId(page)).toBe(second);
    await page.click('#h-newer');
    await waitForPage(page, 1);
    expect(await firstRowId(page)).toBe(first);
    expect(await page.locator('#h-newer').isDisabled()).toBe(true);
  });

  it('filters change the results', async () => {
    await page.selectOption('#h-range', '24h');
    await page.selectOption('#h-type', 'kimi');
    await waitForPage(page, 1);
    const types = await columnTexts(page, 'type');
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['kimi']));

    await page.check('#h-errors');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#h-body tr.event-row')].every((r) =>
        r.classList.contains('is-error'),
      ),
    );
    await waitForPage(page, 1);
    const kinds = await columnTexts(page, 'kind');
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(['error']));
    await page.uncheck('#h-errors');

    await page.fill('#h-kind', 'request');
    await page.press('#h-kind', 'Enter');
    await page.waitForFunction(() => {
      const kinds = [...document.querySelectorAll('#h-body tr.event-row .col-kind')];
      return kinds.length > 0 && kinds.every((k) => k.textContent === 'request');
    });

    // A custom range in the future has no events.
    await page.selectOption('#h-range', 'custom');
    await page.fill('#h-from', '2099-01-01T00:00:00');
    await page.fill('#h-to', '2099-01-02T00:00:00');
    await page.dispatchEvent('#h-to', 'change');
    await page.waitForFunction(
      () => document.querySelector('#h-summary')?.textContent === 'No events match these filters.',
    );
    expect(await rowCount(page)).toBe(0);
    await page.fill('#h-kind', '');
    await page.selectOption('#h-range', '1h');
    await page.waitForSelector('#h-body tr.event-row');
  });

  it('exports the filtered range as valid CSV and JSON', async () => {
    await page.selectOption('#h-type', 'glm');
    await page.selectOption('#h-range', '15m');
    await waitForPage(page, 1);
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('#h-csv')]);
    expect(csvDownload.suggestedFilename()).toMatch(/^connection-events-glm-.*\.csv$/);
    const csv = await readFile((await csvDownload.path()) as string, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,type,kind,timestamp,time,durationMs,error,instance,metadata');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(1, 50)) {
      const [, type, , ts, iso] = line.split(',');
      expect(type).toBe('glm');
      expect(new Date(Number(ts)).toISOString()).toBe(iso);
    }

    const [jsonDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#h-json'),
    ]);
    const body = JSON.parse(await readFile((await jsonDownload.path()) as string, 'utf8')) as {
      count: number;
      capped: boolean;
      events: { type: string; timestamp: number }[];
    };
    expect(body.count).toBe(body.events.length);
    expect(body.capped).toBe(false);
    expect(body.events.length).toBeGreaterThan(0);
    expect(body.events.every((e) => e.type === 'glm')).toBe(true);
    // Newest first, and every page was fetched (more than one page of 1,000 is not needed here,
    // but the count matches the CSV taken a moment earlier give or take live traffic).
    const ts = body.events.map((e) => e.timestamp);
    expect([...ts].sort((a, b) => b - a)).toEqual(ts);
    expect(Math.abs(body.events.length - (lines.length - 1))).toBeLessThan(200);
    await page.waitForFunction(() =>
      document.querySelector('#h-export-status')?.textContent?.startsWith('Exported'),
    );
  });

  it('shows metadata containing HTML as text when a row expands', async () => {
    service.monitor.recordEvent('supabase', {
      kind: 'html-probe',
      durationMs: 3,
      metadata: { note: HTML_METADATA },
    });
    await page.selectOption('#h-type', 'supabase');
    await page.fill('#h-kind', 'html-probe');
    await page.press('#h-kind', 'Enter');
    const row = page.locator('#h-body tr.event-row').first();
    await row.waitFor();
    await row.locator('button.row-toggle').click();
    const meta = page.locator('#h-body pre.metadata').first();
    await meta.waitFor({ state: 'visible' });
    expect(await row.locator('button.row-toggle').getAttribute('aria-expanded')).toBe('true');
    const text = await meta.textContent();
    expect(text).toContain('<img src=x onerror=');
    expect(text).toContain('<b>bold</b>');
    expect(await page.locator('#h-body pre.metadata img, #h-body pre.metadata b').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    await page.fill('#h-kind', '');
    await page.press('#h-kind', 'Enter');
  });

  it('never shows Invalid Date, NaN or undefined; every control has a name', async () => {
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).not.toMatch(FORBIDDEN_TEXT);
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, select, input:not([type=radio]), [role=meter]')]
        .filter((n) => {
          const el = n as HTMLInputElement;
          const hasLabel = el.labels !== undefined && el.labels !== null && el.labels.length > 0;
          return !hasLabel && !el.getAttribute('aria-label') && !el.textContent?.trim();
        })
        .map((n) => n.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
  });

  it('fits a phone screen and follows the dark colour scheme', async () => {
    const phone = closeAfterTest(
      await browser.newContext({
        viewport: { width: 390, height: 844 },
        colorScheme: 'dark',
        isMobile: true,
      }),
    );
    const p = await phone.newPage();
    const phoneErrors = collectErrors(p);
    await p.goto(service.url);
    await waitForDashboard(p);
    const overflow = await p.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).not.toBe(lightBg);
    expect(await p.evaluate(() => document.body.innerText)).not.toMatch(FORBIDDEN_TEXT);
    expect(phoneErrors).toEqual([]);
  });

  it('runs under the Content-Security-Policy the service sends (no unsafe-inline)', async () => {
    const p = closeAfterTest(await context.newPage());
    const strictErrors = collectErrors(p);
    await recordCspViolations(p);
    const res = await p.goto(service.url);
    // The header the service really sends (no test injects one).
    const policy = parsePolicy(res?.headers()['content-security-policy']);
    expect(policy).toMatchObject({
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'", 'data:'],
      'connect-src': ["'self'"],
      'frame-ancestors': ["'none'"],
    });
    expect(JSON.stringify(policy)).not.toMatch(/unsafe-/);
    await waitForDashboard(p);
    // The WebSocket (connect-src 'self') is up and streaming.
    await waitForLiveState(p, 'live');
    expect(await chartPoints(p, 'chart-events')).toBeGreaterThan(0);
    // Colours set from script survive the policy.
    const dot = await p.$eval(
      '[data-testid="card-kimi"] .dot',
      (n) => getComputedStyle(n).backgroundColor,
    );
    expect(dot).toBe('rgb(168, 85, 247)');
    // The stylesheet applied (style-src 'self'): the page is not unstyled.
    expect(await p.$eval('.cards', (n) => getComputedStyle(n).display)).toBe('grid');
    expect(await cspViolations(p)).toEqual([]);
    expect(strictErrors).toEqual([]);
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });

  it('reconnects with backoff when the service restarts', async () => {
    const port = Number(new URL(service.url).port);
    await service.server.close();
    await waitForLiveState(page, 'reconnecting', 10_000);
    // The service again, on the same port.
    closeAfterTest(
      await startDashboardServer({
        existingMonitor: service.monitor,
        port,
        trafficIntervalMs: 20,
      }),
    );
    await waitForLiveState(page, 'live', 20_000);
    await waitForCounterToGrow(page, 'kimi');
  });
});
