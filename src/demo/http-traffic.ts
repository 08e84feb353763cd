/**
 * HTTP demo traffic: three local servers standing in for the Supabase, Kimi and GLM APIs, with
 * realistic latency, 429 and 500 answers and requests that hang until the caller times out,
 * called with `fetch` and recorded by `monitorHttp` (routed by port, as the stand-ins all listen
 * on 127.0.0.1), as in an application.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectionMonitor } from '../monitor.js';
import { monitorHttp, type HttpRoute } from '../instrument/http.js';
import { DemoTimers, between } from './timers.js';

/** The upstream APIs the demo calls with `fetch`. */
export type DemoApi = 'supabase' | 'kimi' | 'glm';

interface ApiProfile {
  readonly route: string;
  /** Typical latency range, ms. */
  readonly latencyMs: readonly [number, number];
  /** Probabilities of 429, 500 and a hang. */
  readonly rate429: number;
  readonly rate500: number;
  readonly rateHang: number;
  /** Client timeout, ms. */
  readonly timeoutMs: number;
  /** Pause between calls, ms. */
  readonly everyMs: readonly [number, number];
}

/** Latency and failure profile of each stand-in API. */
export const API_PROFILES: Readonly<Record<DemoApi, ApiProfile>> = {
  supabase: {
    route: '/rest/v1/orders',
    latencyMs: [8, 60],
    rate429: 0.01,
    rate500: 0.02,
    rateHang: 0.01,
    timeoutMs: 800,
    everyMs: [60, 250],
  },
  kimi: {
    route: '/v1/chat/completions',
    latencyMs: [150, 900],
    rate429: 0.06,
    rate500: 0.02,
    rateHang: 0.02,
    timeoutMs: 1_500,
    everyMs: [150, 500],
  },
  glm: {
    route: '/api/paas/v4/chat/completions',
    latencyMs: [100, 700],
    rate429: 0.04,
    rate500: 0.03,
    rateHang: 0.02,
    timeoutMs: 1_200,
    everyMs: [150, 500],
  },
};

function startFakeApi(profile: ApiProfile, timers: DemoTimers): Server {
  return createServer((req, res) => {
    req.resume();
    const roll = Math.random();
    if (roll < profile.rateHang) return; // Never answers; the caller times out.
    const [lo, hi] = profile.latencyMs;
    timers.after(between(lo, hi), () => {
      if (res.destroyed) return;
      if (roll < profile.rateHang + profile.rate429) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end('{"error":{"message":"rate limit exceeded"}}');
      } else if (roll < profile.rateHang + profile.rate429 + profile.rate500) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"internal server error"}}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }
    });
  });
}

/** Starts the three servers and their callers; resolves once they listen. */
export async function startHttpTraffic(
  monitor: ConnectionMonitor,
): Promise<{ close(): Promise<void> }> {
  const timers = new DemoTimers();
  const servers: Server[] = [];
  const inFlight = new Set<Promise<void>>();
  const aborts = new Set<AbortController>();

  const routes: HttpRoute[] = [];
  const callers: (() => void)[] = [];
  for (const api of Object.keys(API_PROFILES) as DemoApi[]) {
    const profile = API_PROFILES[api];
    const server = startFakeApi(profile, timers);
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    routes.push({ type: api, host: '127.0.0.1', port });
    const url = `http://127.0.0.1:${port}${profile.route}`;

    const call = async () => {
      const abort = new AbortController();
      aborts.add(abort);
      // A TimeoutError reason, so the adapter records a `timeout` (a plain abort is an `abort`).
      const timeout = setTimeout(
        () => abort.abort(new DOMException('no answer in time', 'TimeoutError')),
        profile.timeoutMs,
      );
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"input":"demo"}',
          signal: abort.signal,
        });
        await res.arrayBuffer();
      } catch {
        // Recorded by the adapter.
      } finally {
        clearTimeout(timeout);
        aborts.delete(abort);
      }
    };
    const loop = () => {
      const p = call();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      timers.after(between(...profile.everyMs), loop);
    };
    callers.push(loop);
  }
  // `request` events off: the demo shows latency and errors, at half the event volume.
  const stopInstrumenting = monitorHttp(monitor, { routes, requestEvents: false });
  for (const loop of callers) loop();

  return {
    async close() {
      timers.stop();
      stopInstrumenting(); // shutdown aborts are not failures of the APIs
      for (const a of aborts) a.abort();
      await Promise.allSettled([...inFlight]);
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
