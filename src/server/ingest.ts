/** `POST /api/events`: validates each event on its own and records the good ones. */
import { MonitorError, isMonitorError, type ErrorCode } from '../core/errors.js';
import { parseWith } from '../core/validate.js';
import type { ConnectionMonitor } from '../monitor.js';
import { ingestEvent } from './schemas.js';

/** Why one event of a batch was not recorded. */
export interface RejectedEvent {
  /** Position in the posted array (0 for a single object). */
  index: number;
  code: ErrorCode;
  /** The bad field, e.g. `durationMs` or `metadata.user`. */
  field: string | null;
  message: string;
}

/** Answer of `POST /api/events`. */
export interface IngestResult {
  accepted: number;
  rejected: RejectedEvent[];
}

/**
 * Records one event object or an array of up to `maxEvents` (the body's shape is checked by the
 * route's schema). Each event is validated on its own, so accepted events are recorded even when
 * others fail. Throws `CM_ERR_PAYLOAD_TOO_LARGE` for too many events.
 */
export function ingestEvents(
  monitor: ConnectionMonitor,
  body: Record<string, unknown> | unknown[],
  maxEvents: number,
): IngestResult {
  const items = Array.isArray(body) ? body : [body];
  if (items.length > maxEvents) {
    throw new MonitorError(
      'CM_ERR_PAYLOAD_TOO_LARGE',
      `${items.length} events in one request: at most ${maxEvents}`,
      { field: 'body' },
    );
  }
  const rejected: RejectedEvent[] = [];
  let accepted = 0;
  items.forEach((item, index) => {
    try {
      const e = parseWith(ingestEvent, item, 'CM_ERR_INVALID_EVENT', 'event');
      monitor.recordEvent(e.type, {
        kind: e.kind,
        durationMs: e.durationMs,
        error: e.error,
        metadata: e.metadata,
        timestamp: e.timestamp,
      });
      accepted++;
    } catch (err) {
      if (!isMonitorError(err) || err.code === 'CM_ERR_CLOSED') throw err;
      rejected.push({ index, code: err.code, field: err.field ?? null, message: err.message });
    }
  });
  return { accepted, rejected };
}
