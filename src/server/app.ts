/** `createMonitoringServer`: the Fastify app serving the API, `/ws`, `/metrics` and the dashboard. */
import fastifyWebsocket from '@fastify/websocket';
import { markInternalClient } from '../core/internal.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { MonitorError } from '../core/errors.js';
import type { ServiceStatus } from '../core/status.js';
import type { ConnectionMonitor } from '../monitor.js';
import { LOGIN_PAGE, TokenAuth, isSameOrigin, redactTokenInUrl } from './auth.js';
import { registerDashboard } from './dashboard.js';
import { httpErrorBody, toWireError } from './errors.js';
import { createMetricsRegistry } from './metrics.js';
import {
  resolveServerOptions,
  type MonitoringServerOptions,
  type ResolvedServerOptions,
} from './options.js';
import { packageVersion } from './package-root.js';
import { registerRoutes } from './routes.js';
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

const DASHBOARD_PATHS = new Set(['/', '/index.html']);

/**
 * Builds the HTTP + WebSocket service around `monitor` (which the caller starts and closes).
 * @throws MonitorError `CM_ERR_CONFIG` for a bad option, or a non-loopback `host` without `token`.
 */
export function createMonitoringServer(
  monitor: ConnectionMonitor,
  options: MonitoringServerOptions = {},
): MonitoringServer {
  const resolved = resolveServerOptions(options);
  const { limits, queryLimits } = resolved;
  const app = Fastify({
    logger:
      resolved.logger === false
        ? false
        : {
            ...resolved.logger,
            serializers: {
              // Never log a token passed as ?token=; headers are not logged at all.
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
  });
  const startedAt = Date.now();
  const version = packageVersion();
  let rejectedTotal = 0;

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
  const hub = new WsHub(monitor, {
    limits,
    queryLimits,
    statsIntervalMs: resolved.statsIntervalMs,
    status,
    logger: app.log,
  });
  const registry = createMetricsRegistry(
    monitor,
    {
      wsConnections: () => hub.connectionCount,
      wsDroppedMessages: () => hub.droppedMessages,
      ingestRejected: () => rejectedTotal,
    },
    resolved.processMetrics,
  );
  const auth = resolved.token === undefined ? undefined : new TokenAuth(resolved.token);

  app.setValidatorCompiler(zodValidatorCompiler);
  app.setErrorHandler((err, req, reply) => {
    const w = toWireError(err);
    if (w.isInternal) req.log.error({ err }, 'request failed');
    if (w.code === 'CM_ERR_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer');
    void reply.code(w.status).send(httpErrorBody(w));
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const w = toWireError(
      new MonitorError('CM_ERR_NOT_FOUND', `no route ${req.method} ${path.slice(0, 200)}`),
    );
    void reply.code(w.status).send(httpErrorBody(w));
  });

  // The service's own WebSocket server is not instrumented: monitorWebSocketServer refuses it.
  app.addHook('onReady', async () => {
    markInternalClient(app.websocketServer);
  });
  void app.register(fastifyWebsocket, {
    options: { maxPayload: limits.wsFrameBytes },
    errorHandler: (err, socket) => {
      app.log.error({ err }, 'websocket handler failed');
      socket.terminate();
    },
  });
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.headers({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    const path = req.url.split('?')[0] ?? '';
    if (path.startsWith('/api/')) void reply.header('cache-control', 'no-store');
    const origin = req.headers.origin;
    if (origin !== undefined && resolved.corsOrigins.has(origin)) {
      void reply.headers({
        'access-control-allow-origin': origin,
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-max-age': '600',
        vary: 'Origin',
      });
      if (req.method === 'OPTIONS') return reply.code(204).send();
    }
    if (auth === undefined || path === '/healthz') return;
    const isUpgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
    // A cookie rides along with cross-site WebSocket upgrades; accept it only from our own origin.
    const allowCookie = !isUpgrade || isSameOrigin(req) || resolved.corsOrigins.has(origin ?? '');
    const credential = auth.check(req, allowCookie);
    const isDashboard = req.method === 'GET' && DASHBOARD_PATHS.has(path);
    if (credential !== null) {
      if (credential === 'query' && isDashboard) {
        void reply.header('set-cookie', auth.sessionCookie(req.protocol === 'https'));
      }
      return;
    }
    if (isDashboard && !isUpgrade && (req.headers.accept ?? '').includes('text/html')) {
      return reply
        .code(401)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(LOGIN_PAGE);
    }
    throw new MonitorError('CM_ERR_UNAUTHORIZED', 'a valid token is required');
  };
  // Registered after the websocket plugin so that its onRequest hook (which marks upgrade
  // requests, so a refused upgrade's socket is destroyed) runs before this one can refuse.
  void app.register(
    Object.assign(
      async (root: FastifyInstance) => {
        root.addHook('onRequest', guard);
      },
      { [Symbol.for('skip-override')]: true },
    ),
  );
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
    status,
    onRejected: (n) => {
      rejectedTotal += n;
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
