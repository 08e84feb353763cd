/**
 * Instrumentation overhead on real I/O, with and without the adapters, side by side in one run:
 *  - HTTP: sequential `fetch` POSTs to a local node:http server (in a child process), 2,000 per
 *    round; instrumented = `monitorHttp` with three routes, the request matching one of them
 *    (a `request` and a `response` event per call); and, as a floor, the same loop with no-op
 *    subscribers on the same four undici channels (what publishing costs undici and Node).
 *  - WebSocket: a client (in the child process) sends a 64-byte message and waits for the echo,
 *    5,000 round trips per round, against a `ws` server in this process; instrumented =
 *    `monitorWebSocketServer` on that server (traffic counters, `send` pass-through, connect and
 *    disconnect events per round).
 * 12 rounds per scenario, instrumented and plain interleaved (ABBA order), median per op;
 * overhead = median(instrumented) / median(plain) − 1, for wall-clock time and for this process's
 * CPU time (on a shared, loaded machine the CPU figure is the steadier one).
 * Then the HTTP adapter's own cost per request, isolated: a request's create/headers/trailers
 * messages published straight on undici's channels, 200,000 times, with and without the adapter
 * (5 interleaved rounds, median), set against the plain fetch's CPU time per request; and the
 * WebSocket adapter's cost per incoming message, isolated the same way: 1,000,000 `message`
 * emits on a live server-side connection, with and without the adapter.
 * Issue target ≤ 5 %, aim ≤ 2 %.
 */
import { fork } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { monitorHttp, UNDICI_CHANNELS } from '../src/instrument/http.js';
import { monitorWebSocketServer } from '../src/instrument/ws.js';
import type { Disposer } from '../src/instrument/adapter.js';
import { median, printTable, timeLoop } from './_util.js';

const ROUNDS = 20;
const HTTP_N = 1_000;
const WS_N = 2_000;
const WS_MESSAGE = 'x'.repeat(64);

const here = dirname(fileURLToPath(import.meta.url));
const peer = fork(join(here, '_overhead-peer.ts'), [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const [{ port: httpPort }] = (await once(peer, 'message')) as [{ port: number }];
const httpUrl = `http://127.0.0.1:${httpPort}/v1/chat/completions?trace=1`;
const requestBody = JSON.stringify({ model: 'moonshot-v1-8k', messages: [{ role: 'user' }] });

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(wss, 'listening');
const wsAddress = wss.address();
const wsUrl = `ws://127.0.0.1:${typeof wsAddress === 'object' && wsAddress !== null ? wsAddress.port : 0}/stream`;
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

const monitor = new ConnectionMonitor({ persistence: false, logger: silentLogger });

/** Wall-clock and this process's CPU time per op, ns. */
interface Sample {
  wall: number;
  cpu: number;
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

async function httpRound(): Promise<Sample> {
  const cpu0 = cpuNs();
  const start = process.hrtime.bigint();
  for (let i = 0; i < HTTP_N; i++) {
    const res = await fetch(httpUrl, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json' },
      body: requestBody,
    });
    await res.arrayBuffer();
  }
  const wall = Number(process.hrtime.bigint() - start) / HTTP_N;
  return { wall, cpu: (cpuNs() - cpu0) / HTTP_N };
}

async function wsRound(): Promise<Sample> {
  const cpu0 = cpuNs();
  peer.send({ url: wsUrl, n: WS_N, message: WS_MESSAGE });
  const [{ ns }] = (await once(peer, 'message')) as [{ ns: number }];
  // This process is the server: its CPU time per round trip is what the adapter adds to.
  return { wall: ns, cpu: (cpuNs() - cpu0) / WS_N };
}

const attachHttp = (): Disposer =>
  monitorHttp(monitor, {
    routes: [
      { type: 'glm', host: 'open.bigmodel.cn' },
      { type: 'supabase', host: /\.supabase\.co$/ },
      { type: 'kimi', host: '127.0.0.1', port: httpPort },
    ],
  });
const attachWs = (): Disposer => monitorWebSocketServer(wss, monitor, { pingIntervalMs: 0 });

/** Runs plain and instrumented rounds interleaved (ABBA), returns per-op ns of each. */
async function compare(round: () => Promise<Sample>, attach: () => Disposer) {
  const plain: Sample[] = [];
  const instrumented: Sample[] = [];
  const runInstrumented = async () => {
    const dispose = attach();
    try {
      instrumented.push(await round());
    } finally {
      dispose();
    }
  };
  // Warm-up: both paths, not measured.
  await round();
  await runInstrumented();
  instrumented.length = 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      plain.push(await round());
      await runInstrumented();
    } else {
      await runInstrumented();
      plain.push(await round());
    }
  }
  const pick = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k]));
  return {
    wall: { plain: pick(plain, 'wall'), instrumented: pick(instrumented, 'wall') },
    cpu: { plain: pick(plain, 'cpu'), instrumented: pick(instrumented, 'cpu') },
  };
}

// The floor for any diagnostics_channel-based HTTP instrumentation: no-op subscribers on the same
// four channels (what undici and Node spend publishing, before the adapter does anything).
const noop = () => {};
const attachNoop = (): Disposer => {
  for (const name of Object.values(UNDICI_CHANNELS)) diagnostics.subscribe(name, noop);
  return () => {
    for (const name of Object.values(UNDICI_CHANNELS)) diagnostics.unsubscribe(name, noop);
  };
};
const http = await compare(httpRound, attachHttp);
const httpNoop = await compare(httpRound, attachNoop);
const wsResult = await compare(wsRound, attachWs);
const pct = (r: { plain: number; instrumented: number }) =>
  ((r.instrumented / r.plain - 1) * 100).toFixed(2);
const row = (loop: string, r: Awaited<ReturnType<typeof compare>>) => ({
  loop,
  'plain µs/op': r.wall.plain / 1000,
  'instr. µs/op': r.wall.instrumented / 1000,
  'wall overhead %': pct(r.wall),
  'plain CPU µs/op': r.cpu.plain / 1000,
  'instr. CPU µs/op': r.cpu.instrumented / 1000,
  'CPU overhead %': pct(r.cpu),
});
printTable([
  row(`HTTP fetch POST (${HTTP_N}/round)`, http),
  row(`  same, no-op channel subscribers only`, httpNoop),
  row(`WebSocket echo 64 B (${WS_N}/round)`, wsResult),
]);
console.log(
  `medians of ${ROUNDS} interleaved rounds; target ≤ 5 %, aim ≤ 2 %. Events recorded: ` +
    `kimi ${monitor.getStats('kimi')?.events ?? 0}, websocket ${monitor.getStats('websocket')?.events ?? 0}`,
);

// The HTTP adapter's own cost, isolated from network noise.
const channels = {
  create: diagnostics.channel('undici:request:create'),
  headers: diagnostics.channel('undici:request:headers'),
  trailers: diagnostics.channel('undici:request:trailers'),
};
const response = { statusCode: 200, statusText: 'OK', headers: [] };
const exchange = () => {
  const request = { origin: `http://127.0.0.1:${httpPort}`, method: 'POST', path: '/v1/x?y=1' };
  channels.create.publish({ request });
  channels.headers.publish({ request, response });
  channels.trailers.publish({ request, trailers: [] });
};
const MICRO_N = 200_000;
timeLoop(MICRO_N, exchange);
const without: number[] = [];
const withAdapter: number[] = [];
for (let r = 0; r < 5; r++) {
  without.push(timeLoop(MICRO_N, exchange));
  const dispose = attachHttp();
  withAdapter.push(timeLoop(MICRO_N, exchange));
  dispose();
}
const adapterNs = median(withAdapter) - median(without);
console.log(
  `monitorHttp cost per request (request + response events): ${(adapterNs / 1000).toFixed(2)} µs ` +
    `= ${((adapterNs / http.cpu.plain) * 100).toFixed(2)} % of a plain local fetch's CPU time ` +
    `(${(http.cpu.plain / 1000).toFixed(0)} µs)`,
);

// The WebSocket adapter's cost per incoming message, isolated: its `message` listener driven by
// emits on a live server-side connection (the application's echo listener is not on this one).
const bare = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(bare, 'listening');
const bareAddress = bare.address();
const bareClient = new WebSocket(
  `ws://127.0.0.1:${typeof bareAddress === 'object' && bareAddress !== null ? bareAddress.port : 0}`,
);
const [serverSide] = (await once(bare, 'connection')) as [WebSocket];
await once(bareClient, 'open');
const payload = Buffer.alloc(64, 1);
const emitMessage = () => {
  serverSide.emit('message', payload, true);
};
const WS_MICRO_N = 1_000_000;
timeLoop(WS_MICRO_N, emitMessage);
const wsWithout: number[] = [];
const wsWith: number[] = [];
for (let r = 0; r < 5; r++) {
  wsWithout.push(timeLoop(WS_MICRO_N, emitMessage));
  const dispose = monitorWebSocketServer(bare, monitor, { pingIntervalMs: 0 });
  wsWith.push(timeLoop(WS_MICRO_N, emitMessage));
  dispose();
}
const wsAdapterNs = median(wsWith) - median(wsWithout);
console.log(
  `monitorWebSocketServer cost per incoming message: ${wsAdapterNs.toFixed(0)} ns ` +
    `= ${((wsAdapterNs / wsResult.cpu.plain) * 100).toFixed(2)} % of a plain echo round trip's ` +
    `server CPU time (${(wsResult.cpu.plain / 1000).toFixed(1)} µs)`,
);
bareClient.terminate();
bare.close();

peer.send('exit');
await once(peer, 'exit');
wss.close();
await monitor.close();
