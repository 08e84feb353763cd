/** Historical and time-series queries shared by the HTTP routes and the WebSocket hub. */
import { MonitorError } from '../core/errors.js';
import {
  normalizeHistoryQuery,
  normalizeSeriesQuery,
  type HistoryPage,
  type HistoryQuery,
  type TimeSeriesQuery,
  type TimeSeriesResult,
} from '../core/query.js';
import type { ConnectionMonitor } from '../monitor.js';
import type { ResolvedServerOptions } from './options.js';

type Limits = ResolvedServerOptions['limits'];

function checkRange(from: number, to: number, limits: Limits): void {
  if (to - from > limits.rangeMs) {
    throw new MonitorError(
      'CM_ERR_INVALID_QUERY',
      `invalid query: from…to spans ${to - from} ms — at most ${limits.rangeMs} ms per query`,
      { field: 'from', value: from },
    );
  }
}

/** A page of history; throws `CM_ERR_INVALID_QUERY` naming a bad parameter or a too-long range. */
export async function queryHistory(
  monitor: ConnectionMonitor,
  q: HistoryQuery,
  limits: Limits,
): Promise<HistoryPage> {
  const n = normalizeHistoryQuery(q, monitor.options.clock.now(), monitor.options.retentionMs);
  checkRange(n.from, n.to, limits);
  return monitor.getHistoricalData(q);
}

/** A time series; throws `CM_ERR_INVALID_QUERY` naming a bad parameter or too many points. */
export async function queryTimeSeries(
  monitor: ConnectionMonitor,
  q: TimeSeriesQuery,
  limits: Limits,
): Promise<TimeSeriesResult> {
  const n = normalizeSeriesQuery(q, monitor.options.clock.now(), monitor.options.retentionMs);
  checkRange(n.from, n.to, limits);
  const points = Math.floor(n.to / n.bucketMs) - Math.floor(n.from / n.bucketMs) + 1;
  if (points > limits.seriesPoints) {
    throw new MonitorError(
      'CM_ERR_INVALID_QUERY',
      `invalid query: bucket ${n.bucketMs} ms over ${n.to - n.from} ms gives ${points} points — at most ${limits.seriesPoints}; use a larger bucket or a shorter range`,
      { field: 'bucket', value: n.bucketMs },
    );
  }
  return monitor.getTimeSeriesData(q);
}
