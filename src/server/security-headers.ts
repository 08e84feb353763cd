/**
 * Security headers on every answer, by @fastify/helmet, and `no-store` on the API. The
 * Content-Security-Policy is the one the dashboard is built and tested for (test/dashboard/): only
 * its own scripts, styles and WebSocket, no inline code, no framing. The sign-in page has its own
 * policy (`auth.ts`).
 */
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { urlPath } from './auth.js';

/** CSP directives of the dashboard and every other answer. */
export const DASHBOARD_CSP: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'base-uri': ["'none'"],
  // fetch() to the API and the same-origin WebSocket (CSP3: 'self' covers ws: and wss:).
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  // data: for the empty favicon (`<link rel="icon" href="data:,">`).
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  // Colours and sizes set from script go through the CSSOM, which this allows.
  'style-src': ["'self'"],
});

/** HSTS when turned on: 365 days, subdomains too (helmet's default). */
const HSTS = { maxAge: 31_536_000, includeSubDomains: true } as const;

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** Send `Strict-Transport-Security`. */
  readonly hsts: boolean;
}

/**
 * Registers helmet for the whole app (its headers are set in an `onRequest` hook, so error, 401,
 * 404 and 429 answers carry them too). Besides the CSP: `X-Frame-Options: DENY`,
 * `Referrer-Policy: no-referrer` (a `?token=` URL never leaks in a Referer),
 * `X-Content-Type-Options: nosniff`, and helmet's other defaults; no HSTS unless `hsts` (the
 * service speaks plain HTTP; HSTS belongs to whoever terminates TLS), and no
 * `upgrade-insecure-requests` (it would send a plain-HTTP dashboard's assets to https://).
 */
export const securityHeaders = fp(
  async (app: FastifyInstance, { hsts }: SecurityHeadersOptions) => {
    await app.register(fastifyHelmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: Object.fromEntries(
          Object.entries(DASHBOARD_CSP).map(([name, values]) => [name, [...values]]),
        ),
      },
      strictTransportSecurity: hsts ? HSTS : false,
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
    });
    app.addHook('onRequest', async (req, reply) => {
      if (urlPath(req.url).startsWith('/api/')) void reply.header('cache-control', 'no-store');
    });
  },
  { name: 'connection-monitor-security-headers', fastify: '5.x' },
);
