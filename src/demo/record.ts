/**
 * The demo's only `recordEvent` calls, one small function per connection type, so they can be
 * swapped for the instrumentation adapters (`src/instrument/`) in one place.
 */
import { isMonitorError } from '../core/errors.js';
import type { EventInput } from '../core/event.js';
import type { ConnectionMonitor } from '../monitor.js';

/** Records unless the monitor is already closed (late socket events during shutdown). */
function record(monitor: ConnectionMonitor, type: string, input: EventInput): void {
  try {
    monitor.recordEvent(type, input);
  } catch (err) {
    if (!isMonitorError(err, 'CM_ERR_CLOSED')) throw err;
  }
}

/** A WebSocket connection event seen by the demo's `ws` server. */
export function recordWebSocket(
  monitor: ConnectionMonitor,
  kind: 'connect' | 'disconnect' | 'response' | 'error',
  details: { durationMs?: number; error?: string; clientId: number; code?: number },
): void {
  record(monitor, 'websocket', {
    kind,
    durationMs: details.durationMs,
    error: details.error,
    metadata: {
      client: details.clientId,
      ...(details.code === undefined ? {} : { code: details.code }),
    },
  });
}

/** A Redis command or connection event of the demo's ioredis client. */
export function recordRedis(
  monitor: ConnectionMonitor,
  kind: 'connect' | 'disconnect' | 'response' | 'error' | 'reconnect',
  details: { command?: string; durationMs?: number; error?: string } = {},
): void {
  record(monitor, 'redis', {
    kind,
    durationMs: details.durationMs,
    error: details.error,
    metadata: details.command === undefined ? undefined : { command: details.command },
  });
}

/** The upstream APIs the demo calls with `fetch`. */
export type DemoApi = 'supabase' | 'kimi' | 'glm';

/** One HTTP call to a (stand-in) Supabase, Kimi or GLM API. */
export function recordApiCall(
  monitor: ConnectionMonitor,
  api: DemoApi,
  outcome: {
    kind: 'response' | 'error' | 'timeout';
    durationMs: number;
    status?: number;
    error?: string;
    route: string;
  },
): void {
  record(monitor, api, {
    kind: outcome.kind,
    durationMs: outcome.durationMs,
    error: outcome.error,
    metadata: {
      method: 'POST',
      route: outcome.route,
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
    },
  });
}
