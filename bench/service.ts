/**
 * The service under load: 50 WebSocket subscribers while 20,000 events/s are ingested through
 * `POST /api/events` (batches of 200 every 10 ms, from a producer child process). Subscribers run
 * in another child process; the server has this process to itself.
 *
 * Measures: achieved ingestion rate (events recorded by the monitor per second), event-to-subscriber
 * latency p50/p99 (producer send time → subscriber receive time, per delivered message), events
 * delivered per subscriber per second (the service samples above `wsEventsPerSecond`, default
 * 1,000, and reports the rest as dropped), and the server thread's event-loop utilisation.
 *
 * Baseline, same run: a bare `node:http` + `ws` server that takes the same POSTs and broadcasts
 * each raw batch body as one message to every client (no validation, no recording, no sampling),
 * i.e. the cheapest possible fan-out of the same bytes.
 * Sizes: 2 s warm-up, then 8 s measured, per target.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { createMonitoringServer } from '../src/server/app.js';
import { percentile, printTable } from './_util.js';

const SUBSCRIBERS = 50;
const EVENTS_PER_SECOND = 20_000;
const BATCH = 200;
const WARMUP_MS = 2_000;
const MEASURE_MS = 8_000;
const TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'];
const now = () => performance.timeOrigin + performance.now();

type Role =
  | { role: 'producer'; url: string }
  | { role: 'subscribers'; wsUrl: string; mode: 'service' | 'baseline' };

async function producer(url: string): Promise<void> {
  const intervalMs = (BATCH / EVENTS_PER_SECOND) * 1000;
  const start = performance.now();
  let sent = 0;
  let batches = 0;
  let inFlight = 0;
  let stop = false;
  process.on('message', (m) => {
    if (m === 'stop') stop = true;
  });
  while (!stop) {
    const due = start + batches * intervalMs;
    const wait = due - performance.now();
    if (wait > 0 || inFlight >= 8) {
      await new Promise((r) => setTimeout(r, Math.max(1, wait)));
      continue;
    }
    const sentAt = now();
    const body = JSON.stringify(
      Array.from({ length: BATCH }, (_, i) => ({
        type: TYPES[i % TYPES.length],
        kind: i % 50 === 0 ? 'error' : 'response',
        durationMs: (i % 97) * 1.7,
        metadata: { sentAt, status: 200 },
      })),
    );
    batches++;
    inFlight++;
    void fetch(`${url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
      .then((r) => r.arrayBuffer())
      .then(() => {
        sent += BATCH;
      })
      .finally(() => inFlight--);
  }
  process.send?.({ sent });
}

async function subscribers(wsUrl: string, mode: 'service' | 'baseline'): Promise<void> {
  let measuring = false;
  const latencies: number[] = [];
  let delivered = 0;
  let dropped = 0;
  const clients = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, async () => {
      const ws = new WebSocket(wsUrl);
      await once(ws, 'open');
      ws.on('message', (data) => {
        const received = now();
        const m = JSON.parse(data.toString()) as
          | { type: 'event'; event: { metadata: { sentAt: number } } }
          | { type: 'stats'; dropped: number }
          | { type: string }
          | { metadata: { sentAt: number } }[];
        if (!measuring) return;
        if (Array.isArray(m)) {
          delivered += m.length;
          latencies.push(received - (m[0]?.metadata.sentAt ?? received));
        } else if (m.type === 'event') {
          delivered++;
          latencies.push(
            received - (m as { event: { metadata: { sentAt: number } } }).event.metadata.sentAt,
          );
        } else if (m.type === 'stats') {
          dropped += (m as { dropped: number }).dropped;
        }
      });
      if (mode === 'service') ws.send(JSON.stringify({ type: 'subscribe' }));
      return ws;
    }),
  );
  process.on('message', (m) => {
    if (m === 'measure') measuring = true;
    if (m === 'stop') {
      measuring = false;
      for (const c of clients) c.terminate();
      process.send?.({ latencies, delivered, dropped });
    }
  });
  process.send?.('ready');
}

interface Target {
  url: string;
  wsUrl: string;
  ingested: () => number;
  close: () => Promise<void>;
}

async function serviceTarget(): Promise<Target> {
  const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });
  await monitor.start();
  // One producer posts 20,000 events/s, twice the default per-client ingestion limit: lift it so
  // the run measures the service's throughput, as before the limit existed.
  const server = createMonitoringServer(monitor, {
    port: 0,
    limits: { ingestEventsPerSecond: EVENTS_PER_SECOND * 10, ingestBurst: EVENTS_PER_SECOND * 10 },
  });
  const url = await server.listen();
  return {
    url,
    wsUrl: `${url.replace('http', 'ws')}/ws`,
    ingested: () => Object.values(monitor.getStats()).reduce((n, s) => n + s.events, 0),
    close: async () => {
      await server.close();
      await monitor.close();
    },
  };
}

async function baselineTarget(): Promise<Target> {
  let ingested = 0;
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      ingested += (JSON.parse(body) as unknown[]).length;
      for (const c of wss.clients) c.send(body);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const wss = new WebSocketServer({ server: http });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    ingested: () => ingested,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

function startWorker(data: Role): ChildProcess {
  return fork(new URL(import.meta.url), [JSON.stringify(data)], { execArgv: ['--import', 'tsx'] });
}

async function measure(name: string, target: Target, mode: 'service' | 'baseline') {
  const subs = startWorker({ role: 'subscribers', wsUrl: target.wsUrl, mode });
  await once(subs, 'message'); // ready
  const prod = startWorker({ role: 'producer', url: target.url });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  subs.send('measure');
  const before = target.ingested();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const seconds = (performance.now() - t0) / 1000;
  const ingested = target.ingested() - before;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const subResult = once(subs, 'message');
  subs.send('stop');
  const [{ latencies, delivered, dropped }] = (await subResult) as [
    { latencies: number[]; delivered: number; dropped: number },
  ];
  prod.send('stop');
  await once(prod, 'message');
  subs.kill();
  prod.kill();
  await target.close();
  return {
    target: name,
    'ingested ev/s': Math.round(ingested / seconds),
    'delivered ev/s per sub': Math.round(delivered / SUBSCRIBERS / seconds),
    'dropped ev/s per sub': Math.round(dropped / SUBSCRIBERS / seconds),
    'p50 ms': percentile(latencies, 0.5),
    'p99 ms': percentile(latencies, 0.99),
    'server loop busy': `${Math.round(elu * 100)}%`,
  };
}

const role = process.argv[2];
if (role === undefined) {
  const service = await measure(
    'service (/api/events + /ws subscribe)',
    await serviceTarget(),
    'service',
  );
  const baseline = await measure(
    'baseline (bare http + ws broadcast of raw batch)',
    await baselineTarget(),
    'baseline',
  );
  printTable([service, baseline]);
  console.log(
    `target ${EVENTS_PER_SECOND.toLocaleString('en-US')} ev/s with ${SUBSCRIBERS} subscribers; ` +
      `ingestion ratio service/baseline = ${(service['ingested ev/s'] / baseline['ingested ev/s']).toFixed(2)}; ` +
      `p99 latency ratio = ${(service['p99 ms'] / baseline['p99 ms']).toFixed(2)}`,
  );
  process.exit(0);
} else {
  const data = JSON.parse(role) as Role;
  if (data.role === 'producer') await producer(data.url);
  else await subscribers(data.wsUrl, data.mode);
}
