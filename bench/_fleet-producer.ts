/**
 * A producer process of `bench/fleet.ts`, driven by JSON lines on stdin, answering on stdout:
 *  - `{"op":"start", …}` → a ConnectionMonitor on default settings (batch 100, flush 5 s, queue
 *    1,000, heartbeat 5 s; queue and heartbeat can be set) with the given id, prefix and Redis;
 *    answers `{"ready":true}`;
 *  - `{"op":"go"}` → records `rate` events/s for `seconds` (timer-paced: an idle producer costs
 *    no CPU), then flushes; answers `{"done":{sent, persisted, dropped, elapsedMs, cpuMs}}`;
 *  - `{"op":"close"}` → closes the monitor; answers `{"closed":true}`;
 *  - `{"op":"exit"}` or the end of stdin → exits.
 */
import { createInterface } from 'node:readline';
import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { recordPaced } from './_paced.js';

/** What `{"op":"start"}` carries. */
export interface FleetProducerStart {
  op: 'start';
  redisUrl: string;
  clusterNodes?: { host: string; port: number }[];
  keyPrefix: string;
  instanceId: string;
  /** Connection types, recorded in turn. */
  types: string[];
  /** Events per second. */
  rate: number;
  seconds: number;
  /** Heartbeat interval, ms; default: the monitor's (5 s). */
  heartbeatMs?: number;
  /** Most events waiting for Redis; default: the monitor's (1,000). */
  maxQueueSize?: number;
}

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

let monitor: ConnectionMonitor | undefined;
let plan: FleetProducerStart | undefined;

async function start(p: FleetProducerStart): Promise<void> {
  plan = p;
  monitor = new ConnectionMonitor({
    redisUrl: p.redisUrl,
    clusterNodes: p.clusterNodes,
    keyPrefix: p.keyPrefix,
    instanceId: p.instanceId,
    heartbeatMs: p.heartbeatMs,
    maxQueueSize: p.maxQueueSize,
    logger: silentLogger,
  });
  await monitor.start();
  say({ ready: true });
}

async function go(): Promise<void> {
  const m = monitor as ConnectionMonitor;
  const { types, rate, seconds } = plan as FleetProducerStart;
  const cpu = process.cpuUsage();
  const elapsedMs = await recordPaced(m, types, rate, seconds);
  await m.flush().catch(() => undefined);
  const { user, system } = process.cpuUsage(cpu);
  const { persisted, dropped } = m.getStatus().persistence;
  say({
    done: { sent: rate * seconds, persisted, dropped, elapsedMs, cpuMs: (user + system) / 1000 },
  });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const message = JSON.parse(line) as { op: string };
  if (message.op === 'start') void start(message as FleetProducerStart);
  else if (message.op === 'go') void go();
  else if (message.op === 'close')
    void monitor?.close().then(() => {
      monitor = undefined;
      say({ closed: true });
    });
  else if (message.op === 'exit') process.exit(0);
});
lines.on('close', () => process.exit(0));
