/** The HTTP API routes and `/metrics` (README, "API" and "Metrics"). */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { MonitorError } from '../core/errors.js';
import type { QueryLimits } from '../core/query.js';
import type { ServiceStatus } from '../core/status.js';
import type { ConnectionMonitor } from '../monitor.js';
import { ingestEvents } from './ingest.js';
import { eventsQuery, ingestBody, statsQuery, timeseriesQuery } from './schemas.js';
import type { ZodTypeProvider } from './validation.js';

/** What the routes need besides the monitor. */
export interface RouteDeps {
  readonly monitor: ConnectionMonitor;
  /** Most events in one `POST /api/events`. */
  readonly batchEvents: number;
  /** Limits of every history and time-series query. */
  readonly queryLimits: QueryLimits;
  readonly registry: Registry;
  /** The body of `GET /api/status`. */
  readonly status: () => ServiceStatus;
  /** Called with the number of events rejected by one ingestion request. */
  readonly onRejected: (count: number) => void;
}

/** Registers every JSON route and `/metrics`; input is parsed by each route's zod schema. */
export function registerRoutes(root: FastifyInstance, deps: RouteDeps): void {
  const { monitor, queryLimits } = deps;
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/api/status', async () => deps.status());

  app.get('/api/stats', { schema: { querystring: statsQuery } }, async (req) => {
    const { type } = req.query;
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
    const { type, from, to, bucket } = req.query;
    return monitor.getTimeSeriesData({ type, from, to, bucketMs: bucket }, queryLimits);
  });

  app.post('/api/events', { schema: { body: ingestBody } }, async (req, reply) => {
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
