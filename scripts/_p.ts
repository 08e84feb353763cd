import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { startRedis } from '../test/helpers/redis-server.js';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
const r = await startRedis();
const m = new ConnectionMonitor({ redisUrl: r.url, logger: silentLogger, keyPrefix: 'p' });
await m.start();
const flushes: number[] = []; const durs: number[] = [];
m.on('flushed', (f) => { flushes.push(f.count); durs.push(f.durationMs); });
let firstDrop = -1;
m.on('dropped', () => { if (firstDrop < 0) firstDrop = performance.now(); });
const TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'];
const rate = 20_000, seconds = 3; const start = performance.now(); let sent = 0;
while (sent < rate * seconds) {
  const due = Math.min(rate * seconds, Math.floor(((performance.now() - start) / 1000) * rate));
  const slice = Math.min(due, sent + 100);
  while (sent < slice) { m.recordEvent(TYPES[sent % 5]!, { kind: 'response', durationMs: 1, metadata: { status: 200, model: 'glm-4', region: 'eu' } }); sent++; }
  await yieldToLoop();
}
console.log('flushes', flushes.length, 'avg count', flushes.reduce((a, b) => a + b, 0) / flushes.length, 'max dur', Math.max(...durs), 'avg dur', durs.reduce((a, b) => a + b, 0) / durs.length);
console.log('dropped', m.getStatus().persistence.dropped, 'first drop at', firstDrop - start);
console.log((await r.cli("INFO", "commandstats")).split("\n").filter((l) => /eval|sadd|pexpire/.test(l)).join("\n"));
await m.close(); await r.stop();
