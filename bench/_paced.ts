/** Timer-paced recording for benchmarks with many producers: an idle producer costs no CPU. */
import type { ConnectionMonitor } from '../src/monitor.js';

/** Six connection types; in a 3-master cluster their hash tags' slots put two on each master. */
export const BENCH_TYPES = ['redis', 'kimi', 'websocket', 'openai', 'glm', 'smtp'] as const;

/**
 * The pacing timer's period, ms: each tick records the events due by then. Not shorter: on the
 * 2-core CI machine every timer wake-up costs ~0.4 ms of CPU, and 8 producers waking 100 times a
 * second took a third of a core doing nothing.
 */
const TICK_MS = 50;

/**
 * Records `rate` realistic events per second (types in turn, 1 in 20 an error, a duration,
 * three metadata fields) for `seconds`; resolves with the elapsed time, ms.
 */
export function recordPaced(
  monitor: ConnectionMonitor,
  types: readonly string[],
  rate: number,
  seconds: number,
): Promise<number> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; sent < due; sent++) {
        monitor.recordEvent(types[sent % types.length] as string, {
          kind: sent % 20 === 0 ? 'error' : 'response',
          durationMs: (sent % 997) * 0.37,
          metadata: { status: 200, model: 'glm-4', region: 'eu' },
        });
      }
      if (sent === total) {
        clearInterval(timer);
        resolve(performance.now() - started);
      }
    }, TICK_MS);
  });
}
