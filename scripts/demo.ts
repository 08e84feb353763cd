/**
 * Memory-only demo: records synthetic events for the five seed types and prints live stats every
 * second. `npm run demo:memory`. The full demo with real traffic is `npm start` (serve --demo).
 */
import { ConnectionMonitor } from '../src/index.js';

const monitor = new ConnectionMonitor({ persistence: false });
await monitor.start();
const types = ['websocket', 'redis', 'supabase', 'kimi', 'glm'];
const timer = setInterval(() => {
  for (const type of types) {
    const failed = Math.random() < 0.05;
    monitor.recordEvent(type, {
      kind: failed ? 'error' : 'response',
      durationMs: Math.round(Math.random() * 200 * 100) / 100,
      error: failed ? 'HTTP 500' : undefined,
      metadata: { status: failed ? 500 : 200 },
    });
  }
}, 20);
const printer = setInterval(() => {
  const rows = Object.values(monitor.getStats()).map((s) => ({
    type: s.type,
    events: s.events,
    errors: s.errors,
    'errors %': (s.errorRate * 100).toFixed(1),
    'avg ms': s.avgDurationMs?.toFixed(1) ?? '-',
    'p95 ms': s.p95DurationMs?.toFixed(1) ?? '-',
    'events/s': s.eventsPerSecond.toFixed(1),
  }));
  console.clear();
  console.table(rows);
}, 1000);
const stop = async () => {
  clearInterval(timer);
  clearInterval(printer);
  await monitor.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
