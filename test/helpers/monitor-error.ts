/** What a call throws, checked once: a MonitorError with the expected stable code. */
import { expect } from 'vitest';
import { isMonitorError, type ErrorCode, type MonitorError } from '../../src/core/errors.js';

/**
 * Calls `fn` and returns the MonitorError it throws. Fails the test when `fn` throws nothing or
 * an error without `code` (checked by code, as callers of the library do).
 */
export function thrownMonitorError(fn: () => unknown, code: ErrorCode): MonitorError {
  try {
    fn();
  } catch (err) {
    expect(isMonitorError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
    return err as MonitorError;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}
