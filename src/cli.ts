#!/usr/bin/env node
/**
 * `connection-monitor serve [--host H] [--port P] [--env-file PATH] [--demo]`: runs the monitoring
 * service with configuration from the environment (see the README).
 */
import { readFileSync } from 'node:fs';
import { parseArgs, parseEnv } from 'node:util';
import { configFromEnv } from './config.js';
import { redactUrl } from './core/redact.js';
import { isMonitorError } from './core/errors.js';
import { startDemo, type Demo } from './demo/index.js';
import { ConnectionMonitor } from './monitor.js';
import type { PersistenceStatus } from './core/persistence.js';
import { createMonitoringServer } from './server/app.js';

const HELP = `Usage: connection-monitor serve [options]

Runs the monitoring service: HTTP API, WebSocket /ws, Prometheus /metrics and the dashboard.

Options:
  --host HOST       bind address (default MONITOR_HOST or 127.0.0.1; non-loopback needs MONITOR_TOKEN)
  --port PORT       port, 0 for any free one (default MONITOR_PORT or 8080)
  --env-file PATH   load variables from a dotenv file (variables already set win)
  --demo            generate real local traffic for websocket, redis, supabase, kimi and glm
  -h, --help        show this help

Configuration comes from the environment: REDIS_URL, REDIS_PERSISTENCE_ENABLED, MONITOR_TOKEN, …
(see the README). SIGTERM or SIGINT stops accepting, drains to Redis and exits 0.
`;

/** Prints one line to stderr and returns the exit code. */
function fail(message: string, code = 1): number {
  process.stderr.write(`connection-monitor: ${message}\n`);
  return code;
}

function describePersistence(p: PersistenceStatus): string {
  if (!p.enabled) return 'persistence off: in memory only';
  if (p.circuit !== 'closed' || p.lastError !== null) {
    return 'persistence: Redis not reachable, running in memory until it comes back';
  }
  return `persistence: ${p.mode}, circuit ${p.circuit}`;
}

/** Runs the CLI; resolves to an exit code, or never for `serve` (it exits on a signal). */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'env-file': { type: 'string' },
        demo: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message} (see --help)`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'serve') {
    return fail(
      `expected the command "serve", got ${JSON.stringify(positionals.join(' '))} (see --help)`,
      2,
    );
  }

  let env: Record<string, string | undefined> = { ...process.env };
  if (values['env-file'] !== undefined) {
    let text: string;
    try {
      text = readFileSync(values['env-file'], 'utf8');
    } catch (err) {
      return fail(
        `--env-file ${values['env-file']}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
    // Node's own dotenv parser; variables already in the environment win, as with --env-file.
    env = { ...parseEnv(text), ...env };
  }
  if (values.host !== undefined) env.MONITOR_HOST = values.host;
  if (values.port !== undefined) env.MONITOR_PORT = values.port;

  let config;
  try {
    config = configFromEnv(env);
  } catch (err) {
    if (isMonitorError(err))
      return fail(
        err.message
          .replace(/^MONITOR_HOST=/, 'MONITOR_HOST (or --host)=')
          .replace(/^MONITOR_PORT=/, 'MONITOR_PORT (or --port)='),
      );
    throw err;
  }
  const { host, port, token, ...monitorOptions } = config;

  let monitor: ConnectionMonitor;
  let server;
  try {
    monitor = new ConnectionMonitor(monitorOptions);
    server = createMonitoringServer(monitor, { host, port, token, processMetrics: true });
  } catch (err) {
    if (isMonitorError(err)) return fail(err.message);
    throw err;
  }

  await monitor.start();
  let url: string;
  try {
    url = await server.listen();
  } catch (err) {
    await monitor.close();
    return fail(
      `cannot listen on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let demo: Demo | undefined;
  if (values.demo) demo = await startDemo(monitor, { redisUrl: monitorOptions.redisUrl });

  const status = monitor.getStatus().persistence;
  const parts = [
    `connection-monitor listening on ${url}`,
    `redis ${redactUrl(monitorOptions.redisUrl)}`,
    describePersistence(status),
    token === undefined ? 'auth off (loopback only)' : 'auth: bearer token required',
  ];
  if (demo !== undefined) {
    parts.push(
      demo.isRedisReachable
        ? 'demo traffic on'
        : 'demo traffic on (Redis not reachable: redis events are connection errors, data stays in memory)',
    );
  }
  process.stdout.write(`${parts.join(' · ')}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`connection-monitor: ${signal} again, exiting without draining\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`connection-monitor: ${signal}, shutting down\n`);
    void (async () => {
      try {
        await demo?.close();
        await server.close();
        await monitor.close();
        process.exit(0);
      } catch (err) {
        process.stderr.write(`connection-monitor: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return new Promise<number>(() => {});
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `connection-monitor: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
