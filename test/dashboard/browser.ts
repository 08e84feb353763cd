/** Launches the system Chromium (Debian package, /usr/bin/chromium) through playwright-core. */
import { chromium, type Browser, type Page } from 'playwright-core';

/** Chromium flags for CI machines: no GPU, no sandbox, no background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Starts Chromium. `CHROMIUM_PATH` overrides the executable. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

/** Collects console errors and uncaught page errors of `page`. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()}: ${r.url()}`);
  });
  return errors;
}

/** Text that must never appear on the page. */
export const FORBIDDEN_TEXT = /Invalid Date|NaN|undefined/;

/** Waits until the dashboard's first full render is done. */
export async function waitForDashboard(page: Page): Promise<void> {
  await page.waitForSelector('html[data-ready="true"]', { timeout: 20_000 });
}

/** Waits until the live indicator says `state` ('live', 'reconnecting', …); Playwright's timeout by default. */
export async function waitForLiveState(
  page: Page,
  state: string,
  timeoutMs?: number,
): Promise<void> {
  await page.waitForFunction(
    (s) => document.querySelector('#live')?.getAttribute('data-state') === s,
    state,
    timeoutMs === undefined ? undefined : { timeout: timeoutMs },
  );
}

/** Waits until the event counter on `type`'s card shows more than it does now (live updates). */
export async function waitForCounterToGrow(
  page: Page,
  type: string,
  timeoutMs = 5_000,
): Promise<void> {
  const selector = `[data-testid="card-${type}"] [data-testid="card-events"]`;
  const read = (text: string | null | undefined) => Number(text?.replace(/,/g, ''));
  const before = read(await page.textContent(selector));
  await page.waitForFunction(
    ([sel, n]) =>
      Number(document.querySelector(sel as string)?.textContent?.replace(/,/g, '')) > (n as number),
    [selector, before] as const,
    { timeout: timeoutMs },
  );
}

/**
 * Records Content-Security-Policy violations of every document `page` loads (read them with
 * {@link cspViolations} before it navigates away). Call before the first `goto`.
 */
export async function recordCspViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => {
      seen.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
}

/** The violations recorded in the current document (see {@link recordCspViolations}). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(
    () => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? ['not recorded'],
  );
}

/** `a b; c d` → `{ a: ['b'], c: ['d'] }`. */
export function parsePolicy(header: string | undefined): Record<string, string[]> {
  const policy: Record<string, string[]> = {};
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name !== undefined && name !== '') policy[name] = values;
  }
  return policy;
}
