/**
 * Screenshots of the dashboard for the README: `npx tsx scripts/screenshots.ts`.
 * Starts a real service with 24 h of seeded history (1,000,000 events, with a kimi incident two
 * hours ago) persisted to a private redis-server when one is on PATH, and live demo traffic, builds the dashboard if needed, and writes
 * docs/dashboard-desktop.png (1440×900, light, full page) and docs/dashboard-phone.png
 * (390×844, dark, first screen) plus docs/dashboard-phone-full.png (whole page).
 */
import { join } from 'node:path';
import setupDashboard from '../test/dashboard/global-setup.js';
import { launchBrowser, waitForDashboard } from '../test/dashboard/browser.js';
import { startDashboardServer } from '../test/dashboard/fixture.js';
import { startRedis, type TestRedis } from '../test/helpers/redis-server.js';

const DOCS = join(import.meta.dirname, '..', 'docs');

setupDashboard();
// With redis-server on PATH the history is persisted to (and served from) a private Redis, as in
// production; without, the service runs in memory (the status bar then says "memory only").
let redis: TestRedis | undefined;
try {
  redis = await startRedis();
} catch {
  console.log('redis-server not available: memory mode');
}
const service = await startDashboardServer({
  seedEvents: 1_000_000,
  trafficIntervalMs: 80,
  monitor:
    redis === undefined
      ? undefined
      : {
          persistence: true,
          redisUrl: redis.url,
          maxQueueSize: 2_000_000,
          batchSize: 5_000,
          flushIntervalMs: 250,
        },
});
const browser = await launchBrowser();
try {
  const shots = [
    { name: 'desktop', width: 1440, height: 900, scheme: 'light', fullPage: true },
    { name: 'phone', width: 390, height: 844, scheme: 'dark', fullPage: false },
    { name: 'phone-full', width: 390, height: 844, scheme: 'dark', fullPage: true },
  ] as const;
  for (const shot of shots) {
    const context = await browser.newContext({
      viewport: { width: shot.width, height: shot.height },
      colorScheme: shot.scheme,
      deviceScaleFactor: shot.name === 'phone' ? 2 : 1,
      isMobile: shot.width < 600,
    });
    const page = await context.newPage();
    await page.goto(service.url);
    await waitForDashboard(page);
    // Six hours show the incident; 25 rows keep the page short.
    await page.getByText('6 h', { exact: true }).click();
    await page.waitForFunction(() =>
      document.querySelector('.range-note')?.textContent?.includes('6 h'),
    );
    await page.selectOption('#h-limit', '25');
    await page.waitForFunction(
      () => document.querySelectorAll('#h-body tr.event-row').length === 25,
    );
    // Open one row to show the metadata view.
    await page.locator('#h-body tr.event-row button.row-toggle').nth(1).click();
    // Wait until live: counters, gauges and the live event list show streamed values.
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'Live');
    await page.waitForFunction(() => document.querySelectorAll('.tail-row').length >= 12, null, {
      timeout: 15_000,
    });
    await page.evaluate(() => window.scrollTo(0, 0));
    const path = join(DOCS, `dashboard-${shot.name}.png`);
    await page.screenshot({ path, fullPage: shot.fullPage });
    console.log(`wrote ${path}`);
    await context.close();
  }
} finally {
  await browser.close();
  await service.close();
  await redis?.stop();
}
