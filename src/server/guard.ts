/**
 * The token guard: with a token configured, every request but `/healthz` must prove it knows it
 * (`Authorization: Bearer`, `?token=` or the `cm_session` cookie; see `auth.ts`). A dashboard
 * visit with `?token=` gets the session cookie; one without credentials gets the sign-in page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { MonitorError } from '../core/errors.js';
import {
  LOGIN_PAGE,
  LOGIN_PAGE_CSP,
  SESSION_COOKIE,
  isSameOrigin,
  urlPath,
  type TokenAuth,
} from './auth.js';

/** Options of {@link guard}. */
export interface GuardOptions {
  readonly auth: TokenAuth;
  /** Origins allowed by CORS: their WebSocket upgrades may also use the session cookie. */
  readonly corsOrigins: ReadonlySet<string>;
}

const DASHBOARD_PATHS = new Set(['/', '/index.html']);

const loginDirectives = Object.fromEntries(
  Object.entries(LOGIN_PAGE_CSP).map(([name, values]) => [name, [...values]]),
);

/**
 * Registers the guard as an `onRequest` hook of the whole app. Register it after
 * `@fastify/websocket` (whose hook marks upgrade requests, so a refused upgrade's socket is
 * destroyed), `@fastify/helmet` (whose per-reply override gives the sign-in page its policy),
 * `@fastify/cookie` (which parses the cookie it reads), `@fastify/cors` (which answers preflight
 * requests, which carry no credentials) and the request rate limit (which counts requests before
 * their token is checked).
 */
export const guard = fp(
  async (app: FastifyInstance, { auth, corsOrigins }: GuardOptions) => {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const path = urlPath(req.url);
      if (path === '/healthz') return;
      const isUpgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
      // A cookie rides along with cross-site WebSocket upgrades; accept it only from our own origin.
      const allowCookie =
        !isUpgrade || isSameOrigin(req) || corsOrigins.has(req.headers.origin ?? '');
      const credential = auth.check(req, allowCookie);
      const isDashboard = req.method === 'GET' && DASHBOARD_PATHS.has(path);
      if (credential !== null) {
        if (credential === 'query' && isDashboard) {
          const { value, options } = auth.sessionCookie(req.protocol === 'https');
          void reply.setCookie(SESSION_COOKIE, value, options);
        }
        return;
      }
      if (isDashboard && !isUpgrade && (req.headers.accept ?? '').includes('text/html')) {
        // The page's own policy replaces the dashboard's (helmet's per-reply override).
        reply.helmet({
          contentSecurityPolicy: { useDefaults: false, directives: loginDirectives },
        });
        return reply
          .code(401)
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(LOGIN_PAGE);
      }
      throw new MonitorError('CM_ERR_UNAUTHORIZED', 'a valid token is required');
    });
  },
  {
    name: 'connection-monitor-guard',
    fastify: '5.x',
    dependencies: ['@fastify/websocket', '@fastify/cookie', '@fastify/helmet'],
  },
);
