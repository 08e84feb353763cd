/**
 * Test helpers: the one starter of a real service for tests (a server on port 0 around a memory
 * monitor, or around the caller's monitor), and a WebSocket client with deadlines. The dashboard
 * fixture builds on {@link startServer}.
 */
import WebSocket from 'ws';
import { ConnectionMonitor } from '../../src/monitor.js';
import type { MonitorOptions } from '../../src/options.js';
import { silentLogger } from '../../src/logger.js';
import { createMonitoringServer, type MonitoringServer } from '../../src/server/app.js';
import type { MonitoringServerOptions } from '../../src/server/options.js';

/** A running server for one test. */
export interface TestServer {
  monitor: ConnectionMonitor;
  server: MonitoringServer;
  url: string;
  wsUrl: string;
  /** Closes the server, then the monitor if {@link startServer} created it. */
  close(): Promise<void>;
}

/** Extra setup of {@link startServer}. */
export interface StartOptions {
  /** Serve this monitor instead of a new one; the caller starts and closes it. */
  monitor?: ConnectionMonitor;
  /** Runs once the server is created, before it listens (seed data, add hooks). */
  beforeListen?: (t: { monitor: ConnectionMonitor; server: MonitoringServer }) => unknown;
}

/**
 * Starts a monitor (memory only unless told, silent) and a server on 127.0.0.1:0, or serves
 * `start.monitor` when given.
 */
export async function startServer(
  serverOptions: MonitoringServerOptions = {},
  monitorOptions: MonitorOptions = {},
  start: StartOptions = {},
): Promise<TestServer> {
  const isOwnMonitor = start.monitor === undefined;
  const monitor =
    start.monitor ??
    new ConnectionMonitor({ persistence: false, logger: silentLogger, ...monitorOptions });
  if (isOwnMonitor) await monitor.start();
  const server = createMonitoringServer(monitor, { port: 0, ...serverOptions });
  await start.beforeListen?.({ monitor, server });
  const url = await server.listen();
  return {
    monitor,
    server,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    async close() {
      await server.close();
      if (isOwnMonitor) await monitor.close();
    },
  };
}

/** A parsed server message. */
export type Message = Record<string, unknown> & { type: string };

/** A `ws` client that keeps every message and lets tests wait for one with a deadline. */
export class TestClient {
  readonly messages: Message[] = [];
  /** Raw texts that were not JSON objects (must stay empty). */
  readonly malformed: string[] = [];
  closeCode: number | undefined;
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private nextId = 1;
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      let m: unknown;
      try {
        m = JSON.parse(text);
      } catch {
        this.malformed.push(text);
        return;
      }
      if (typeof m !== 'object' || m === null || typeof (m as Message).type !== 'string') {
        this.malformed.push(text);
        return;
      }
      this.messages.push(m as Message);
      for (const w of [...this.waiters]) {
        if (w.match(m as Message)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m as Message);
        }
      }
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  /** Connects; rejects with the HTTP status on a refused upgrade. */
  static connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      const client = new TestClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (req, res) => {
        res.resume();
        req.destroy();
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
            status: res.statusCode,
          }),
        );
      });
      socket.once('error', reject);
    });
  }

  /** Sends an object as JSON, or a raw string / buffer as is. */
  send(data: unknown): void {
    this.socket.send(
      typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data),
    );
  }

  /** The first message (already received or future) matching `match`, within `timeoutMs`. */
  waitFor(match: (m: Message) => boolean, timeoutMs = 5_000, fromIndex = 0): Promise<Message> {
    const seen = this.messages.slice(fromIndex).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (m: Message) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  /** Sends `message` with a fresh id and waits for the answer carrying that id. */
  request(message: Record<string, unknown>, timeoutMs = 5_000): Promise<Message> {
    const id = `r${this.nextId++}`;
    const reply = this.waitFor((m) => m.id === id, timeoutMs);
    this.send({ ...message, id });
    return reply;
  }

  close(): Promise<number> {
    this.socket.close();
    return this.closed;
  }
}
