/**
 * Security headers on every answer, and `no-store` on the API. Hand-written for now; to be
 * replaced by `@fastify/helmet` with a Content-Security-Policy.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Adds the headers in an `onRequest` hook, so error and 404 answers carry them too. */
export const securityHeaders = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req, reply) => {
      void reply.headers({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
      if (req.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
    });
  },
  { name: 'connection-monitor-security-headers', fastify: '5.x' },
);
