/**
 * The per-client request limit of the HTTP routes (`limits.requestsPerMinute`), by
 * @fastify/rate-limit: a fixed one-minute window per client in its LRU store of
 * `limits.rateLimitClients` entries; 429 `CM_ERR_RATE_LIMITED` with `Retry-After` above it.
 * `/healthz` (probes) and `POST /api/events` (limited in events instead, `ingest-rate-limit.ts`)
 * are not counted.
 */
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { MonitorError } from '../core/errors.js';

/**
 * The key a client is counted by in both rate limits: its address (`req.ip`, which honours
 * `trustProxy`), IPv4-mapped IPv6 as IPv4 and IPv6 by /64 (one host usually holds a whole /64).
 */
export function clientKey(req: FastifyRequest): string {
  return normalizeIP(req.ip);
}

/** Options of {@link requestRateLimit}. */
export interface RequestRateLimitOptions {
  /** Requests per minute per client. */
  readonly requestsPerMinute: number;
  /** Most clients remembered (the store's LRU size). */
  readonly maxClients: number;
}

/** Requests the request limit does not count. */
function isExempt(req: FastifyRequest): boolean {
  const path = req.url.split(/[?#]/, 1)[0];
  return path === '/healthz' || (path === '/api/events' && req.method === 'POST');
}

/**
 * Registers the limit as an `onRequest` hook of the whole app (404s and static files count too).
 * Register it before the token guard, so that requests are counted before their token is
 * checked: guessing tokens is limited as well.
 */
export const requestRateLimit = fp(
  async (app: FastifyInstance, { requestsPerMinute, maxClients }: RequestRateLimitOptions) => {
    await app.register(fastifyRateLimit, {
      // Not per route (the plugin's onRoute hooks would run after the guard): one app-wide hook.
      global: false,
      max: requestsPerMinute,
      timeWindow: 60_000,
      cache: maxClients,
      keyGenerator: clientKey,
      allowList: (req) => isExempt(req),
      errorResponseBuilder: (_req, ctx) =>
        new MonitorError(
          'CM_ERR_RATE_LIMITED',
          `too many requests from this client: at most ${ctx.max} requests per minute; retry in ${ctx.after}`,
        ),
    });
    // The plugin types its handler as a preHandler hook; it only reads the request and sets
    // reply headers, which works the same in onRequest (its own default hook).
    app.addHook('onRequest', app.rateLimit() as unknown as onRequestAsyncHookHandler);
  },
  { name: 'connection-monitor-request-rate-limit', fastify: '5.x' },
);
