/**
 * Answers to `/ws` client messages: the queries (`historical`, `time_series`, `notable`,
 * `instances`, `status`) with the same monitor calls and limits as the HTTP routes, and
 * `subscribe` / `unsubscribe`, handed to {@link WsSubscriptions}. Every answer carries the
 * request's `type` and `id`; a thrown error is answered as an `error` message by the caller.
 */
import type { QueryLimits } from '../core/query.js';
import type { ServiceStatusReport } from '../core/status.js';
import type { ConnectionMonitor } from '../monitor.js';
import type { WsConnection } from './ws-connection.js';
import type { ClientMessage } from './ws-protocol.js';
import type { WsSubscriptions } from './ws-subscriptions.js';

/** What {@link WsRequests} needs besides the monitor. */
export interface WsRequestsDeps {
  /** Limits of every history and time-series query. */
  readonly queryLimits: QueryLimits;
  /** The `/api/status` body (with the storage estimate). */
  readonly statusReport: () => Promise<ServiceStatusReport>;
  readonly subscriptions: WsSubscriptions;
}

/** Answers the messages of every connection of one server. */
export class WsRequests {
  constructor(
    private readonly monitor: ConnectionMonitor,
    private readonly deps: WsRequestsDeps,
  ) {}

  /** Answers one message on `c`; rejects with the error to answer. */
  async answer(c: WsConnection, m: ClientMessage): Promise<void> {
    const { queryLimits, subscriptions } = this.deps;
    switch (m.type) {
      case 'historical': {
        const { type, id, connectionType, from, to, limit, before, kind, errorsOnly, instance } = m;
        const page = await this.monitor.getHistoricalData(
          {
            type: connectionType,
            from: from ?? undefined,
            to: to ?? undefined,
            // A digit string is accepted by the monitor's parser, which names any other string.
            limit: limit as number | undefined,
            before,
            kind,
            errorsOnly,
            instance: instance ?? undefined,
          },
          queryLimits,
        );
        c.send(JSON.stringify({ type, id, ...page }));
        return;
      }
      case 'time_series': {
        const { type, id, connectionType, from, to, bucket, instance } = m;
        const series = await this.monitor.getTimeSeriesData(
          {
            type: connectionType ?? undefined,
            from: from ?? undefined,
            to: to ?? undefined,
            bucketMs: bucket ?? undefined,
            instance: instance ?? undefined,
          },
          queryLimits,
        );
        c.send(JSON.stringify({ type, id, ...series }));
        return;
      }
      case 'notable': {
        const { type, id, connectionType, from, to, limit } = m;
        const found = await this.monitor.getNotableEvents({
          type: connectionType ?? undefined,
          from: from ?? undefined,
          to: to ?? undefined,
          limit,
        });
        c.send(JSON.stringify({ type, id, ...found }));
        return;
      }
      case 'instances': {
        const instances = await this.monitor.getInstances();
        c.send(JSON.stringify({ type: m.type, id: m.id, instances }));
        return;
      }
      case 'status': {
        const status = await this.deps.statusReport();
        c.send(JSON.stringify({ type: m.type, id: m.id, status }));
        return;
      }
      case 'subscribe': {
        const types = m.types ?? null;
        const filter = { types: types === null ? null : new Set(types), notable: m.notable };
        subscriptions.subscribe(c, m.scope, filter, performance.now());
        c.send(JSON.stringify({ type: m.type, id: m.id, ok: true, scope: m.scope }));
        await subscriptions.sendStatsNow(c);
        return;
      }
      case 'unsubscribe':
        subscriptions.unsubscribe(c);
        c.send(JSON.stringify({ type: m.type, id: m.id, ok: true }));
        return;
    }
  }
}
