import { describe, expect, it } from 'vitest';
import { waitUntil } from './wait.js';

describe('waitUntil', () => {
  it('resolves once the check turns true, retrying checks that throw', async () => {
    let calls = 0;
    await waitUntil(async () => {
      calls++;
      if (calls < 3) throw new Error('not ready');
      return calls >= 5;
    }, 'the fifth call');
    expect(calls).toBe(5);
  });

  it('times out saying what it waited for, with the last failure as cause', async () => {
    const started = Date.now();
    const error = await waitUntil(() => false, 'the impossible', { timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('timed out after 100 ms waiting for the impossible');
    expect(((error as Error).cause as Error).message).toBe('not yet: the impossible');
  });

  it('gives up on a check that never settles', async () => {
    const never = () => new Promise<boolean>(() => {});
    await expect(waitUntil(never, 'a hung check', { timeoutMs: 50 })).rejects.toThrow(
      'timed out after 50 ms waiting for a hung check',
    );
  });
});
