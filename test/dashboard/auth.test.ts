/**
 * Token handling against a real service that requires a token: the sign-in flow, and the
 * dashboard's own token prompt when the service comes back with a different token.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { closeAfterTest } from '../helpers/after-test.js';
import { startDashboardServer, type DashboardServer } from './fixture.js';

const TOKEN_A = 'alpha-token-0123456789';
const TOKEN_B = 'bravo-token-9876543210';

let service: DashboardServer;
let browser: Browser;

beforeAll(async () => {
  service = await startDashboardServer({
    token: TOKEN_A,
    seedEvents: 2_000,
    trafficIntervalMs: 50,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

describe('dashboard with a token', () => {
  it('refuses the API without the token', async () => {
    const res = await fetch(`${service.url}/api/status`);
    expect(res.status).toBe(401);
  });

  it('signs in through the token form and keeps the token out of the URL', async () => {
    const context = closeAfterTest(await browser.newContext());
    const page = await context.newPage();
    const errors = collectErrors(page);
    await recordCspViolations(page);
    const signIn = await page.goto(service.url);
    // The sign-in page's own policy allows its inline style by hash: it is styled, and nothing
    // was blocked.
    const policy = parsePolicy(signIn?.headers()['content-security-policy']);
    expect(policy['style-src']).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/]+=*'$/)]);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(15, 23, 42)',
    );
    expect(await cspViolations(page)).toEqual([]);
    await page.getByLabel(/token/i).fill(TOKEN_A);
    await page.keyboard.press('Enter');
    await waitForDashboard(page);
    await page.locator('[data-testid="card-redis"]').waitFor();
    expect(await cspViolations(page)).toEqual([]);
    expect(page.url()).not.toContain('token=');
    expect(await page.evaluate(() => sessionStorage.getItem('connection-monitor.token'))).toBe(
      TOKEN_A,
    );
    await waitForLiveState(page, 'live');
    expect(await page.evaluate(() => document.body.innerText)).not.toMatch(FORBIDDEN_TEXT);
    // The sign-in page itself answers 401 before the token is given; nothing else may fail.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
  });

  it('asks for the new token when the service restarts with another one', async () => {
    const context = closeAfterTest(await browser.newContext());
    const page = await context.newPage();
    await page.goto(`${service.url}/?token=${TOKEN_A}`);
    await waitForDashboard(page);
    await waitForLiveState(page, 'live');
    const port = Number(new URL(service.url).port);
    await service.server.close();
    // The service again, on the same port, with another token.
    closeAfterTest(
      await startDashboardServer({
        existingMonitor: service.monitor,
        port,
        token: TOKEN_B,
        trafficIntervalMs: 50,
      }),
    );
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: 20_000 });
    expect(await dialog.textContent()).toContain('rejected');
    const input = page.getByLabel('Access token');
    await input.fill(TOKEN_B);
    await page.getByRole('button', { name: 'Continue' }).click();
    await dialog.waitFor({ state: 'detached' });
    await waitForLiveState(page, 'live', 20_000);
    expect(await page.evaluate(() => sessionStorage.getItem('connection-monitor.token'))).toBe(
      TOKEN_B,
    );
    await waitForCounterToGrow(page, 'glm');
  });
});
