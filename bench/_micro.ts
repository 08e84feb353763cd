import { ConnectionMonitor } from '../src/monitor.js';
import { silentLogger } from '../src/logger.js';
import { timeLoop } from './_util.js';
const TYPES = ['websocket', 'redis', 'supabase', 'kimi', 'glm'];
const KINDS = ['request', 'response', 'error', 'connect'];
const m = new ConnectionMonitor({ persistence: false, logger: silentLogger });
for (let r = 0; r < 6; r++) {
  console.log(
    'full',
    timeLoop(1e6, (i) =>
      m.recordEvent(TYPES[i % 5]!, {
        kind: KINDS[i & 3]!,
        durationMs: (i % 997) * 0.37,
        metadata: { status: 200, model: 'glm-4', region: 'eu' },
      }),
    ),
  );
}
