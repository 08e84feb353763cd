/**
 * WebSocket demo traffic: a local `ws` server and short-lived clients that connect, exchange a
 * few echo messages and disconnect (now and then abruptly, which the server sees as an error).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { ConnectionMonitor } from '../monitor.js';
import { recordWebSocket } from './record.js';
import { DemoTimers, between } from './timers.js';

/** Most demo clients connected at once. */
const MAX_CLIENTS = 4;

/** Starts the server and the client loop; resolves once the server listens. */
export async function startWebSocketTraffic(
  monitor: ConnectionMonitor,
): Promise<{ close(): Promise<void> }> {
  const timers = new DemoTimers();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const clients = new Set<WebSocket>();
  let nextId = 1;
  let nextClientId = 1;

  server.on('connection', (socket) => {
    const clientId = nextId++;
    const openedAt = performance.now();
    recordWebSocket(monitor, 'connect', { clientId });
    socket.on('message', (data) => {
      // Echo after a short "processing" delay.
      timers.after(between(1, 15), () => {
        if (socket.readyState === socket.OPEN) socket.send(data);
      });
    });
    socket.on('error', () => {});
    socket.on('close', (code) => {
      const durationMs = performance.now() - openedAt;
      if (code === 1000 || code === 1001) {
        recordWebSocket(monitor, 'disconnect', { clientId, durationMs, code });
      } else {
        recordWebSocket(monitor, 'error', {
          clientId,
          durationMs,
          code,
          error: `connection closed abnormally (code ${code})`,
        });
      }
    });
  });

  const runClient = () => {
    const clientId = nextClientId++;
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    clients.add(socket);
    let left = between(1, 5);
    let sentAt = 0;
    socket.on('error', () => {});
    socket.on('open', () => {
      const sendOne = () => {
        sentAt = performance.now();
        socket.send(JSON.stringify({ op: 'ping', at: Date.now() }));
      };
      socket.on('message', () => {
        recordWebSocket(monitor, 'response', {
          clientId,
          durationMs: performance.now() - sentAt,
        });
        if (--left > 0) timers.after(between(20, 200), sendOne);
        else if (Math.random() < 0.1) socket.terminate();
        else socket.close(1000, 'done');
      });
      sendOne();
    });
    socket.on('close', () => clients.delete(socket));
  };

  const loop = () => {
    if (clients.size < MAX_CLIENTS) runClient();
    timers.after(between(150, 600), loop);
  };
  loop();

  return {
    async close() {
      timers.stop();
      for (const c of clients) c.terminate();
      for (const s of server.clients) s.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
