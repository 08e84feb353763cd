/**
 * A real monitoring service for dashboard tests, screenshots and the benchmark: the tests' one
 * server starter (`test/server/helpers.ts`) with seeded history and synthetic demo traffic for
 * the five seed types, serving the built dashboard.
 */
import type { ConnectionMonitor } from '../../src/monitor.js';
import type { MonitorOptions } from '../../src/options.js';
import type { MonitoringServer } from '../../src/server/index.js';
import { startServer } from '../server/helpers.js';

/** The five connection types of the demo. */
export const DEMO_TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'] as const;

/** Share of traffic per type (a WebSocket-heavy service that calls two LLM APIs). */
const WEIGHTS: Record<(typeof DEMO_TYPES)[number], number> = {
  websocket: 0.36,
  redis: 0.3,
  supabase: 0.16,
  kimi: 0.09,
  glm: 0.09,
};

/** Picks a type by {@link WEIGHTS} for a uniform `u` in [0, 1). */
export function pickType(u: number): (typeof DEMO_TYPES)[number] {
  let acc = 0;
  for (const t of DEMO_TYPES) {
    acc += WEIGHTS[t];
    if (u < acc) return t;
  }
  return 'glm';
}

/** Metadata that must be shown as text, never parsed as markup. */
export const HTML_METADATA = '<img src=x onerror="window.__xss=1"><b>bold</b>';

interface Profile {
  kinds: readonly string[];
  /** Typical duration, ms (log-normal around it). */
  medianMs: number;
  errorRate: number;
}

const PROFILES: Record<(typeof DEMO_TYPES)[number], Profile> = {
  websocket: {
    kinds: ['message', 'message', 'message', 'connect', 'disconnect'],
    medianMs: 0.8,
    errorRate: 0.01,
  },
  redis: { kinds: ['command', 'command', 'command', 'connect'], medianMs: 1.6, errorRate: 0.004 },
  supabase: { kinds: ['request', 'response'], medianMs: 48, errorRate: 0.02 },
  kimi: { kinds: ['request', 'response'], medianMs: 620, errorRate: 0.035 },
  glm: { kinds: ['request', 'response'], medianMs: 410, errorRate: 0.025 },
};

/** A small deterministic PRNG (mulberry32), so seeded history looks the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records one plausible event of `type` at `timestamp` (ms; undefined = now). */
export function recordDemoEvent(
  monitor: ConnectionMonitor,
  type: (typeof DEMO_TYPES)[number],
  rand: () => number,
  timestamp?: number,
  stress = 1,
): void {
  const p = PROFILES[type];
  const isError = rand() < p.errorRate * stress;
  // Log-normal-ish latency: median × e^(0.6·z) with z roughly standard normal.
  const z = (rand() + rand() + rand() - 1.5) * 2;
  const durationMs = Math.round(p.medianMs * stress * Math.exp(0.6 * z) * 1000) / 1000;
  monitor.recordEvent(type, {
    kind: isError ? 'error' : (p.kinds[Math.floor(rand() * p.kinds.length)] as string),
    durationMs,
    timestamp,
    error: isError ? (type === 'redis' ? 'ETIMEDOUT' : 'HTTP 503 Service Unavailable') : undefined,
    metadata: { status: isError ? 503 : 200, region: rand() < 0.5 ? 'eu-west-1' : 'us-east-1' },
  });
}

/**
 * Seeds `count` events spread over the last `spanMs`, with a gentle daily-like wave in density
 * and an "incident" (kimi errors and slow responses) two hours ago, so charts have shape.
 */
export function seedHistory(
  monitor: ConnectionMonitor,
  count: number,
  spanMs: number,
  now = Date.now(),
): void {
  const rand = prng(42);
  const from = now - spanMs;
  const incidentStart = now - 2 * 3_600_000;
  const incidentEnd = incidentStart + 12 * 60_000;
  const waves = Math.max(1, spanMs / 8 / 3_600_000);
  for (let i = 0; i < count; i++) {
    const u = i / count;
    // Monotonic warp of u: density varies ±30 % along the range.
    const w = u + (0.3 * Math.sin(2 * Math.PI * waves * u)) / (2 * Math.PI * waves);
    const timestamp = Math.floor(from + w * spanMs);
    const type = pickType(rand());
    const isIncident = type === 'kimi' && timestamp >= incidentStart && timestamp < incidentEnd;
    // Within the monitor's accepted window (its retention behind now), with a minute to spare.
    const at = Math.min(Math.max(timestamp, now - spanMs + 60_000), now - 1);
    recordDemoEvent(monitor, type, rand, at, isIncident ? 6 : 1);
  }
}

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions {
  /** Events of seeded history. Default 20,000. */
  seedEvents?: number;
  /** Span of the seeded history, ms. Default 24 h. */
  seedSpanMs?: number;
  /** Demo traffic: one event every this many ms (0: none). Default 25. */
  trafficIntervalMs?: number;
  /** Service token. Default none. */
  token?: string;
  /** Port. Default 0 (a free one). */
  port?: number;
  /** Extra monitor options (e.g. Redis persistence). Default memory mode. */
  monitor?: MonitorOptions;
  /** Use this monitor instead of a new one (it is not closed by `close()`). */
  existingMonitor?: ConnectionMonitor;
}

/** A running service for the dashboard. */
export interface DashboardServer {
  url: string;
  monitor: ConnectionMonitor;
  server: MonitoringServer;
  /** Stops traffic, closes the server and (if created here) the monitor. */
  close(): Promise<void>;
}

/** Starts a monitor + service with seeded history and demo traffic (see `startServer`). */
export async function startDashboardServer(
  options: DashboardServerOptions = {},
): Promise<DashboardServer> {
  const service = await startServer(
    { port: options.port ?? 0, token: options.token, statsIntervalMs: 500 },
    options.monitor,
    {
      monitor: options.existingMonitor,
      beforeListen: async ({ monitor }) => {
        const seedEvents = options.seedEvents ?? 20_000;
        if (options.existingMonitor !== undefined || seedEvents === 0) return;
        seedHistory(monitor, seedEvents, options.seedSpanMs ?? 86_400_000);
        // One event whose metadata is markup: the dashboard must show it as text.
        monitor.recordEvent('supabase', {
          kind: 'response',
          durationMs: 12.5,
          metadata: { note: HTML_METADATA },
        });
        // With Redis persistence, serve the seeded history from Redis, not from the write queue.
        if (monitor.getStatus().persistence.enabled) await monitor.flush();
      },
    },
  );
  const { monitor } = service;
  const rand = prng(7);
  const interval = options.trafficIntervalMs ?? 25;
  const timer =
    interval > 0
      ? setInterval(() => {
          const type = pickType(rand());
          try {
            recordDemoEvent(monitor, type, rand);
          } catch {
            // The monitor is closing.
          }
        }, interval)
      : undefined;
  timer?.unref();
  return {
    url: service.url,
    monitor,
    server: service.server,
    async close() {
      clearInterval(timer);
      await service.close();
    },
  };
}
