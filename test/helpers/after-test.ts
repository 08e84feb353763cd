/**
 * Per-test cleanup, registered where the resource is made (also inside helpers a test calls):
 * vitest's `onTestFinished`, which runs after the test and its `afterEach` hooks, pass or fail,
 * one callback at a time, the last registered first.
 */
import { onTestFinished } from 'vitest';

/** Closes `resource` when the current test finishes; returns it. Call it inside a test only. */
export function closeAfterTest<T extends { close(): unknown }>(resource: T): T {
  onTestFinished(async () => {
    await resource.close();
  });
  return resource;
}

/** Calls `dispose` when the current test finishes; returns it. Call it inside a test only. */
export function disposeAfterTest<T extends () => unknown>(dispose: T): T {
  onTestFinished(async () => {
    await dispose();
  });
  return dispose;
}
