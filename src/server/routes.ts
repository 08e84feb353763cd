/** The HTTP API routes (PRODUCT.md "Service API"). */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { MonitorError } from '../core/errors.js';
import { NAME_PATTERN } from '../core/event.js';
import type { ConnectionMonitor } from '../monitor.js';
import { ingestEvents } from './ingest.js';
import type { ResolvedServerOptions } from './options.js';
import { queryHistory, queryTimeSeries } from './queries.js';
import { eventsQuery, parseOrThrow, statsQuery, timeseriesQuery } from './schemas.js';

/** What the routes need besides the monitor. */
export interface RouteDeps {
  readonly monitor: ConnectionMonitor;
  readonly limits: ResolvedServerOptions['limits'];
  readonly registry: Registry;
  readonly status: () => object;
  /** Called with the number of events rejected by one ingestion request. */
  readonly onRejected: (count: number) => void;
}

/** Registers every JSON route and `/metrics`. */
export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { monitor, limits } = deps;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/api/status', async () => deps.status());

  app.get('/api/stats', async (req) => {
    const q = parseOrThrow(statsQuery, req.query, 'CM_ERR_INVALID_QUERY', 'query');
    if (q.type === undefined) return monitor.getStats();
    if (!NAME_PATTERN.test(q.type)) {
      throw new MonitorError(
        'CM_ERR_INVALID_QUERY',
        `invalid query: type ${JSON.stringify(q.type)} — must match ^[a-z][a-z0-9_-]{0,63}$`,
        { field: 'type' },
      );
    }
    const stats = monitor.getStats(q.type);
    if (stats === null) {
      throw new MonitorError('CM_ERR_NOT_FOUND', `no events of type ${q.type} yet`, {
        field: 'type',
      });
    }
    return stats;
  });

  app.get('/api/events', async (req) => {
    const q = parseOrThrow(eventsQuery, req.query, 'CM_ERR_INVALID_QUERY', 'query');
    // limit stays text here: the monitor's parser accepts digit strings and names a bad one.
    const { token: _token, ...query } = q;
    return queryHistory(monitor, { ...query, limit: q.limit as number | undefined }, limits);
  });

  app.get('/api/timeseries', async (req) => {
    const q = parseOrThrow(timeseriesQuery, req.query, 'CM_ERR_INVALID_QUERY', 'query');
    return queryTimeSeries(
      monitor,
      { type: q.type, from: q.from, to: q.to, bucketMs: q.bucket },
      limits,
    );
  });

  app.post('/api/events', async (req, reply) => {
    const result = ingestEvents(monitor, req.body, limits.batchEvents);
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
