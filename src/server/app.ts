/** `createMonitoringServer`: the Fastify app serving the API, `/ws`, `/metrics` and the dashboard. */
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { MonitorError } from '../core/errors.js';
import { markInternalClient } from '../core/internal.js';
import type { ServiceStatus, ServiceStatusReport } from '../core/status.js';
import type { ConnectionMonitor } from '../monitor.js';
import { TokenAuth, redactTokenInUrl, urlPath } from './auth.js';
import { registerDashboard } from './dashboard.js';
import { httpErrorBody, toWireError } from './errors.js';
import { guard } from './guard.js';
import { IngestRateLimit } from './ingest-rate-limit.js';
import { createMetricsRegistry } from './metrics.js';
import {
  resolveServerOptions,
  type MonitoringServerOptions,
  type ResolvedServerOptions,
} from './options.js';
import { packageVersion } from '../package-info.js';
import { requestRateLimit } from './request-rate-limit.js';
import { registerRoutes } from './routes.js';
import { securityHeaders } from './security-headers.js';
import { zodValidatorCompiler } from './validation.js';
import { WsHub } from './ws-hub.js';

/** A monitoring server; see {@link createMonitoringServer}. */
export interface MonitoringServer {
  /** The Fastify instance (add routes or hooks before `listen()`). */
  readonly app: FastifyInstance;
  /** Options after defaults. */
  readonly options: ResolvedServerOptions;
  /** Directory the dashboard is served from, or null when it is not built. */
  readonly dashboardDir: string | null;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:8080`. */
  listen(): Promise<string>;
  /** Closes WebSockets (1001) and the HTTP server. Does not close the monitor. Idempotent. */
  close(): Promise<void>;
}

/**
 * Answers an error Fastify meets before routing (a URL it cannot decode) like our error handler
 * does. (That handler is not reached from here: the router's own context predates it.)
 */
function answerFrameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const w = toWireError(err);
  void reply.code(w.status).send(httpErrorBody(w));
}

/**
 * Builds the HTTP + WebSocket service around `monitor` (which the caller starts and closes).
 * @throws MonitorError `CM_ERR_CONFIG` for a bad option, or a non-loopback `host` without `token`.
 */
export function createMonitoringServer(
  monitor: ConnectionMonitor,
  options: MonitoringServerOptions = {},
): MonitoringServer {
  const resolved = resolveServerOptions(options);
  const { limits, queryLimits, corsOrigins } = resolved;
  const app = Fastify({
    logger:
      resolved.logger === false
        ? false
        : {
            ...resolved.logger,
            serializers: {
              ...resolved.logger.serializers,
              // Never log a token passed in the URL, however its name is encoded; headers are
              // not logged at all.
              req: (req: FastifyRequest) => ({
                method: req.method,
                url: redactTokenInUrl(req.url),
                remoteAddress: req.ip,
              }),
            },
          },
    bodyLimit: limits.bodyBytes,
    requestTimeout: 30_000,
    return503OnClosing: true,
    trustProxy:
      typeof resolved.trustProxy === 'object' ? [...resolved.trustProxy] : resolved.trustProxy,
    // URLs the router cannot decode go to the error handler below like any other error, not to
    // Fastify's own answer, which quotes the whole URL (a ?token= with it).
    frameworkErrors: answerFrameworkError,
  });
  const startedAt = Date.now();
  const version = packageVersion();
  let rejectedTotal = 0;
  let rateLimitedTotal = 0;
  const ingestLimit = new IngestRateLimit({
    eventsPerSecond: limits.ingestEventsPerSecond,
    burst: limits.ingestBurst,
    maxClients: limits.rateLimitClients,
  });

  const status = (): ServiceStatus => ({
    ...monitor.getStatus(),
    version,
    server: {
      startedAt,
      uptimeMs: Date.now() - startedAt,
      wsConnections: hub.connectionCount,
      wsSubscribers: hub.subscriberCount,
      auth: resolved.token !== undefined,
    },
  });
  // The storage estimate is a Redis read (cached a minute by the monitor), so only `/api/status`
  // and `status` answers carry it, not the `stats` push.
  const statusReport = async (): Promise<ServiceStatusReport> => {
    const storage = await monitor.getStorageEstimate();
    return { ...status(), storage };
  };
  const hub = new WsHub(monitor, {
    limits,
    queryLimits,
    statsIntervalMs: resolved.statsIntervalMs,
    status,
    statusReport,
    logger: app.log,
  });
  const registry = createMetricsRegistry(
    monitor,
    {
      wsConnections: () => hub.connectionCount,
      wsDroppedMessages: () => hub.droppedMessages,
      ingestRejected: () => rejectedTotal,
      ingestRateLimited: () => rateLimitedTotal,
    },
    resolved.processMetrics,
  );

  app.setValidatorCompiler(zodValidatorCompiler);
  app.setErrorHandler((err, req, reply) => {
    const w = toWireError(err);
    if (w.isInternal) req.log.error({ err }, 'request failed');
    if (w.code === 'CM_ERR_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer');
    void reply.code(w.status).send(httpErrorBody(w));
  });
  app.setNotFoundHandler((req, reply) => {
    const path = redactTokenInUrl(urlPath(req.url));
    const w = toWireError(
      new MonitorError('CM_ERR_NOT_FOUND', `no route ${req.method} ${path.slice(0, 200)}`),
    );
    void reply.code(w.status).send(httpErrorBody(w));
  });

  // The service's own WebSocket server is not instrumented: monitorWebSocketServer refuses it.
  app.addHook('onReady', async () => {
    markInternalClient(app.websocketServer);
  });
  // Order matters: the onRequest hooks run in registration order, and the guard must come last
  // (see guard.ts).
  void app.register(fastifyWebsocket, {
    options: { maxPayload: limits.wsFrameBytes },
    errorHandler: (err, socket) => {
      app.log.error({ err }, 'websocket handler failed');
      socket.terminate();
    },
  });
  void app.register(securityHeaders, { hsts: resolved.hsts });
  void app.register(fastifyCookie);
  if (corsOrigins.size > 0) {
    void app.register(fastifyCors, {
      // Only the listed origins; any other is left to the usual answer (no CORS headers at all,
      // and no preflight answer).
      origin: (origin, cb) => cb(null, origin !== undefined && corsOrigins.has(origin)),
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
      // An OPTIONS request from an allowed origin is answered 204 even without
      // access-control-request-method, as before (not 400 text/plain).
      strictPreflight: false,
    });
  }
  void app.register(requestRateLimit, {
    requestsPerMinute: limits.requestsPerMinute,
    maxClients: limits.rateLimitClients,
  });
  if (resolved.token !== undefined) {
    void app.register(guard, { auth: new TokenAuth(resolved.token), corsOrigins });
  }
  void app.register(async (scoped) => {
    scoped.route({
      method: 'GET',
      url: '/ws',
      handler: async () => {
        throw new MonitorError('CM_ERR_BAD_REQUEST', '/ws needs a WebSocket upgrade', {
          field: 'upgrade',
        });
      },
      wsHandler: (socket, req) => hub.accept(socket, req.socket),
    });
  });
  registerRoutes(app, {
    monitor,
    batchEvents: limits.batchEvents,
    queryLimits,
    registry,
    statusReport,
    onRejected: (n) => {
      rejectedTotal += n;
    },
    ingestLimit,
    onRateLimited: (n) => {
      rateLimitedTotal += n;
    },
  });
  const dashboardDir = registerDashboard(app, resolved.dashboardDir);

  let closing: Promise<void> | undefined;
  return {
    app,
    options: resolved,
    dashboardDir,
    async listen() {
      await app.listen({ host: resolved.host, port: resolved.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : resolved.port;
      const host = resolved.host.includes(':')
        ? `[${resolved.host.replace(/^\[|\]$/g, '')}]`
        : resolved.host;
      return `http://${host}:${port}`;
    },
    close() {
      closing ??= (async () => {
        hub.close();
        await app.close();
      })();
      return closing;
    },
  };
}
