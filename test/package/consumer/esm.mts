// A strict TypeScript consumer of the packed package, as an ES module. The package test type-checks
// it (skipLibCheck: false), compiles it and runs it; it prints one JSON line the test asserts on.
import {
  ConnectionMonitor,
  configFromEnv,
  isMonitorError,
  monitorHttp as monitorHttpFromRoot,
  type ConnectionEvent,
  type TypeStats,
} from 'connection-monitor';
import { createMonitoringServer, type MonitoringServer } from 'connection-monitor/server';
import {
  INTERNAL_CLIENT,
  monitorHttp,
  monitorRedisClient,
  monitorWebSocketServer,
  type Disposer,
} from 'connection-monitor/instrument';

const monitor = new ConnectionMonitor({ persistence: false });
await monitor.start();
const event: ConnectionEvent = monitor.recordEvent('api', { kind: 'response', durationMs: 12 });
const apiStats: TypeStats | null = monitor.getStats('api');

let configErrorCode = '';
try {
  configFromEnv({ MONITOR_PORT: 'not-a-port' });
} catch (err) {
  configErrorCode = isMonitorError(err) ? err.code : 'not a MonitorError';
}

const server: MonitoringServer = createMonitoringServer(monitor, { port: 0 });
const url = await server.listen();
const dispose: Disposer = monitorHttp(monitor, { routes: [{ type: 'self', host: '127.0.0.1' }] });
const res = await fetch(`${url}/healthz`);
await res.text();
// The adapter records the response when undici reports the end of the body; allow it a moment.
const deadline = Date.now() + 5_000;
while ((monitor.getStats('self')?.kinds['response'] ?? 0) === 0 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const selfStats = monitor.getStats('self');
dispose();
await server.close();
await monitor.close();

console.log(
  JSON.stringify({
    eventType: event.type,
    apiEvents: apiStats?.events,
    configErrorCode,
    healthz: res.status,
    selfResponses: selfStats?.kinds['response'] ?? 0,
    isSameAdapterFromRoot: monitorHttpFromRoot === monitorHttp,
    adapters: [typeof monitorRedisClient, typeof monitorWebSocketServer],
    internalClient: INTERNAL_CLIENT.toString(),
  }),
);
