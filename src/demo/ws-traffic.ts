/**
 * WebSocket demo traffic: a local `ws` server and short-lived clients that connect, exchange a
 * few echo messages and disconnect (now and then abruptly, which the server sees as an abnormal
 * close). Events come from `monitorWebSocketServer` on the server, as in an application.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { ConnectionMonitor } from '../monitor.js';
import { monitorWebSocketServer } from '../instrument/ws.js';
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
  // Pings often enough that the short-lived demo clients see a few.
  const stopInstrumenting = monitorWebSocketServer(server, monitor, { pingIntervalMs: 400 });

  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      // Echo after a short "processing" delay.
      timers.after(between(1, 15), () => {
        if (socket.readyState === socket.OPEN) socket.send(data);
      });
    });
    socket.on('error', () => {});
  });

  const runClient = () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    clients.add(socket);
    let left = between(1, 5);
    socket.on('error', () => {});
    socket.on('open', () => {
      const sendOne = () => socket.send(JSON.stringify({ op: 'ping', at: Date.now() }));
      socket.on('message', () => {
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
      stopInstrumenting();
      for (const c of clients) c.terminate();
      for (const s of server.clients) s.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
