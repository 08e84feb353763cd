/** The one way tests wait for a condition: vitest's `vi.waitFor`, with a deadline and a reason. */
import { vi } from 'vitest';

/** Options for {@link waitUntil}. */
export interface WaitOptions {
  /** How long to keep checking, in ms. Default 5,000. */
  timeoutMs?: number;
  /** Pause between two checks, in ms (a pending async check is not started again). Default 10. */
  intervalMs?: number;
}

/**
 * Waits until `check()` returns true (or resolves to true), checking every `intervalMs`.
 * A check that throws counts as "not yet"; it is tried again.
 *
 * @param what what is awaited, for the error: "timed out after 5000 ms waiting for <what>".
 * @throws Error with that message after `timeoutMs`; its `cause` is the last check's failure.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 5_000, intervalMs = 10 }: WaitOptions = {},
): Promise<void> {
  try {
    await vi.waitFor(
      async () => {
        // vi.waitFor retries until the callback stops throwing: turn "false" into a throw.
        if (!(await check())) throw new Error(`not yet: ${what}`);
      },
      { timeout: timeoutMs, interval: intervalMs },
    );
  } catch (lastFailure) {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastFailure });
  }
}
