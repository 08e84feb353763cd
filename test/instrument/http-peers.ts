/**
 * Local HTTP servers standing in for Kimi, GLM and Supabase. Behaviour by path:
 * `/status/<code>` answers that status, `/slow/<ms>` answers 200 after at least `<ms>` ms,
 * `/hang` never answers, anything else answers 200 with a small JSON body.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { HttpRoute } from '../../src/instrument/http.js';

/** A running stand-in server. */
export interface FakeApi {
  readonly port: number;
  readonly url: string;
  /** Requests received (method and full URL, headers), for asserting what reached the peer. */
  readonly received: { method: string; url: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** Waits at least `ms` by the monotonic clock (a timer alone may fire a fraction early). */
function delay(ms: number): Promise<void> {
  const until = performance.now() + ms;
  return new Promise((resolve) => {
    const tick = () => {
      const left = until - performance.now();
      if (left <= 0) resolve();
      else setTimeout(tick, Math.ceil(left));
    };
    tick();
  });
}

/** Starts a stand-in API on 127.0.0.1, port 0. */
export async function startFakeApi(): Promise<FakeApi> {
  const received: FakeApi['received'] = [];
  const server: Server = createServer((req, res) => {
    received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
    });
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const status = /^\/status\/(\d{3})$/.exec(path);
      const slow = /^\/slow\/(\d+)$/.exec(path);
      if (path === '/hang') return;
      const answer = (code: number) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: code < 400 }));
      };
      if (status) answer(Number(status[1]));
      else if (slow) void delay(Number(slow[1])).then(() => answer(200));
      else answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One stand-in each for Kimi, GLM and Supabase. */
export interface FakePeers {
  readonly kimi: FakeApi;
  readonly glm: FakeApi;
  readonly supabase: FakeApi;
  /** Routes to the three: told apart by port; supabase by a RegExp host, as in production. */
  routes(): HttpRoute[];
  close(): Promise<void>;
}

/** Starts the Kimi, GLM and Supabase stand-ins. */
export async function startFakePeers(): Promise<FakePeers> {
  const [kimi, glm, supabase] = await Promise.all([startFakeApi(), startFakeApi(), startFakeApi()]);
  return {
    kimi,
    glm,
    supabase,
    routes: () => [
      { type: 'kimi', host: '127.0.0.1', port: kimi.port },
      { type: 'glm', host: '127.0.0.1', port: glm.port },
      { type: 'supabase', host: /^127\.0\.0\.1$/, port: supabase.port },
    ],
    close: async () => {
      await Promise.all([kimi.close(), glm.close(), supabase.close()]);
    },
  };
}

/** A port on 127.0.0.1 with nothing listening (connections are refused). */
export async function closedPort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
