import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../package-info.js';

/** Where the dashboard build lands (`npm run build:dashboard`), relative to the package root. */
export const DASHBOARD_DIR = join('dist', 'dashboard');

const MISSING_PAGE =
  '<!doctype html><html lang="en"><meta charset="utf-8"><title>connection-monitor</title>' +
  '<p>The dashboard is not built: run <code>npm run build:dashboard</code>, then reload. The API is up.</p></html>\n';

/**
 * Serves the built dashboard at `/`, or a one-line 503 page saying how to build it. Returns the
 * directory served, or null when it is missing.
 */
export function registerDashboard(app: FastifyInstance, dir: string | undefined): string | null {
  const root = dir ?? join(packageRoot(), DASHBOARD_DIR);
  if (existsSync(join(root, 'index.html'))) {
    void app.register(fastifyStatic, { root, prefix: '/', index: ['index.html'] });
    return root;
  }
  app.get('/', (_req, reply) => {
    void reply.code(503).type('text/html; charset=utf-8').send(MISSING_PAGE);
  });
  return null;
}
