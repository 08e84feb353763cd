/** The HTTP API routes and `/metrics` (README, "API" and "Metrics"). */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { MonitorError } from '../core/errors.js';
import type { QueryLimits } from '../core/query.js';
import type { ServiceStatusReport } from '../core/status.js';
import type { ConnectionMonitor } from '../monitor.js';
import { httpErrorBody, toWireError } from './errors.js';
import type { IngestRateLimit } from './ingest-rate-limit.js';
import { ingestEvents } from './ingest.js';
import { clientKey } from './request-rate-limit.js';
import {
  eventsQuery,
  ingestBody,
  instancesQuery,
  notableQuery,
  statsQuery,
  timeseriesQuery,
} from './schemas.js';
import type { ZodTypeProvider } from './validation.js';

/** What the routes need besides the monitor. */
export interface RouteDeps {
  readonly monitor: ConnectionMonitor;
  /** Most events in one `POST /api/events`. */
  readonly batchEvents: number;
  /** Limits of every history and time-series query. */
  readonly queryLimits: QueryLimits;
  readonly registry: Registry;
  /** The body of `GET /api/status` (with the storage estimate). */
  readonly statusReport: () => Promise<ServiceStatusReport>;
  /** Called with the number of events rejected by one ingestion request. */
  readonly onRejected: (count: number) => void;
  /** The per-client ingestion budget, in events. */
  readonly ingestLimit: IngestRateLimit;
  /** Called with the number of events of a request refused by {@link ingestLimit}. */
  readonly onRateLimited: (count: number) => void;
}

/** The 429 answer's message: the limit, and what did not fit. */
function ingestLimitMessage(limit: IngestRateLimit, events: number, retryAfterS: number): string {
  const { eventsPerSecond: rate, burst } = limit.options;
  const perSecond = `${rate} event${rate === 1 ? '' : 's'} per second`;
  return `too many events from this client: at most ${perSecond} with a burst of ${burst}; this request of ${events} did not fit (nothing was recorded), retry in ${retryAfterS} s`;
}

/** Registers every JSON route and `/metrics`; input is parsed by each route's zod schema. */
export function registerRoutes(root: FastifyInstance, deps: RouteDeps): void {
  const { monitor, queryLimits } = deps;
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/api/status', async () => deps.statusReport());

  app.get('/api/instances', { schema: { querystring: instancesQuery } }, async () => ({
    instances: await monitor.getInstances(),
  }));

  app.get('/api/stats', { schema: { querystring: statsQuery } }, async (req) => {
    const { type, scope } = req.query;
    if (scope === 'fleet') return monitor.getFleetStats(type);
    if (type === undefined) return monitor.getStats();
    const stats = monitor.getStats(type);
    if (stats === null) {
      throw new MonitorError('CM_ERR_NOT_FOUND', `no events of type ${type} yet`, {
        field: 'type',
      });
    }
    return stats;
  });

  app.get('/api/events', { schema: { querystring: eventsQuery } }, async (req) => {
    const { token: _token, ...query } = req.query;
    return monitor.getHistoricalData(query, queryLimits);
  });

  app.get('/api/timeseries', { schema: { querystring: timeseriesQuery } }, async (req) => {
    const { type, from, to, bucket, instance } = req.query;
    return monitor.getTimeSeriesData({ type, from, to, bucketMs: bucket, instance }, queryLimits);
  });

  app.get('/api/notable', { schema: { querystring: notableQuery } }, async (req) => {
    const { token: _token, ...query } = req.query;
    return monitor.getNotableEvents(query);
  });

  app.post('/api/events', { schema: { body: ingestBody } }, async (req, reply) => {
    const events = Array.isArray(req.body) ? req.body.length : 1;
    // A batch over batchEvents is refused with 413 by ingestEvents and costs nothing here. Every
    // event counts, valid or not: each costs the same work to check.
    if (events <= deps.batchEvents) {
      const waitMs = deps.ingestLimit.admit(clientKey(req), events, performance.now());
      if (waitMs > 0) {
        deps.onRateLimited(events);
        const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
        const err = new MonitorError(
          'CM_ERR_RATE_LIMITED',
          ingestLimitMessage(deps.ingestLimit, events, retryAfterS),
        );
        return reply
          .code(429)
          .header('retry-after', String(retryAfterS))
          .send(httpErrorBody(toWireError(err)));
      }
    }
    const result = ingestEvents(monitor, req.body, deps.batchEvents);
    if (result.rejected.length > 0) deps.onRejected(result.rejected.length);
    if (result.accepted === 0) {
      const first = result.rejected[0];
      return reply.code(400).send({
        error: {
          code: first?.code ?? 'CM_ERR_INVALID_EVENT',
          message: `no event was accepted; first problem (index ${first?.index ?? 0}): ${first?.message ?? 'invalid'}`,
        },
        ...result,
      });
    }
    return reply.code(202).send(result);
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });
}
