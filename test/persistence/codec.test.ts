import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectionMonitor } from '../../src/monitor.js';
import { silentLogger } from '../../src/logger.js';
import {
  decodeRollup,
  encodeAggregate,
  memberId,
  serializeEvent,
} from '../../src/persistence/codec.js';
import { addEvent, emptyRollup } from '../../src/core/aggregate.js';

describe('event serialisation', () => {
  it('is byte-for-byte JSON.stringify of the event', () => {
    const m = new ConnectionMonitor({ persistence: false, logger: silentLogger });
    fc.assert(
      fc.property(
        fc.constantFrom('glm', 'redis', 'a-b_c'),
        fc.constantFrom('response', 'error', 'x'),
        fc.option(fc.double({ min: 0, max: 1e9, noNaN: true }), { nil: undefined }),
        fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
        fc.option(
          fc.dictionary(
            fc.string({ minLength: 1, maxLength: 10 }),
            fc.oneof(
              fc.string({ maxLength: 20 }),
              fc.double({ noNaN: true, noDefaultInfinity: true }),
              fc.boolean(),
              fc.constant(null),
            ),
            { maxKeys: 5 },
          ),
          { nil: undefined },
        ),
        (type, kind, durationMs, error, metadata) => {
          const e = m.recordEvent(type, { kind, durationMs, error, metadata });
          const s = serializeEvent(e);
          expect(s).toBe(JSON.stringify(e));
          expect(memberId(s)).toBe(e.id);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips rollups through the stored shape', () => {
    const r = emptyRollup(120_000);
    addEvent(r, 'response', 120_500, false, 12.5);
    addEvent(r, 'error', 121_000, true, undefined);
    // A rollup's bucket says when: its wire form keeps no first/last times.
    expect(decodeRollup(JSON.stringify(encodeAggregate(r, true)))).toEqual({
      ...r,
      firstAt: null,
      lastAt: null,
    });
    const empty = emptyRollup(60_000);
    expect(decodeRollup(JSON.stringify(encodeAggregate(empty, true)))).toEqual(empty);
  });
});
