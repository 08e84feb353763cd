/**
 * Marks objects the monitor owns (its own ioredis clients, its service's WebSocket server) so that
 * the adapters refuse to instrument them: recording the monitor's own traffic would feed back into
 * itself (every flush producing events that need flushing).
 */

/**
 * Set to `true` on any client or server the monitor creates for itself:
 * `client[INTERNAL_CLIENT] = true` (`Symbol.for('connection-monitor.internal')`, so separate copies
 * of the library agree).
 */
export const INTERNAL_CLIENT = Symbol.for('connection-monitor.internal');

/** True when `target` carries the {@link INTERNAL_CLIENT} mark. */
export function isInternalClient(target: unknown): boolean {
  return (
    typeof target === 'object' &&
    target !== null &&
    (target as { [INTERNAL_CLIENT]?: unknown })[INTERNAL_CLIENT] === true
  );
}

/** Marks `target` as owned by the monitor (see {@link INTERNAL_CLIENT}) and returns it. */
export function markInternalClient<T extends object>(target: T): T {
  (target as { [INTERNAL_CLIENT]?: unknown })[INTERNAL_CLIENT] = true;
  return target;
}
