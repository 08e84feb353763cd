// The same consumer as a CommonJS module: TypeScript compiles these imports to require() calls, so
// running it proves that require() of the package's ES modules works (Node ≥ 20.19, 22.12).
import { ConnectionMonitor, type ConnectionEvent } from 'connection-monitor';
import { createMonitoringServer } from 'connection-monitor/server';
import { monitorHttp } from 'connection-monitor/instrument';

async function main(): Promise<void> {
  const monitor = new ConnectionMonitor({ persistence: false });
  await monitor.start();
  const event: ConnectionEvent = monitor.recordEvent('api', { kind: 'connect' });
  const server = createMonitoringServer(monitor, { port: 0 });
  const url = await server.listen();
  const dispose = monitorHttp(monitor, { routes: [{ type: 'self', host: '127.0.0.1' }] });
  const res = await fetch(`${url}/healthz`);
  await res.text();
  dispose();
  await server.close();
  await monitor.close();
  console.log(
    JSON.stringify({
      eventType: event.type,
      apiEvents: monitor.getStats('api')?.events,
      healthz: res.status,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
