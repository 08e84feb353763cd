/**
 * The end-of-run invariants of the chaos suite, checked through the public API and Redis itself
 * once the fault is healed and `flush()` has settled:
 *
 * - every accepted event of a type is in Redis (once: ids unique, stored as recorded), or was lost
 *   with the fault on purpose (`lost`: what a killed Redis held, what the test deleted), or
 *   quarantined (counted per type by the `quarantined` events), or dropped (the drops of all
 *   types add up to `dropped`);
 * - `persisted` is exactly what reached Redis; recorded = persisted + dropped + rejected;
 * - each type's stats hash agrees with its members (events = ZCARD, errors, per kind, durations
 *   counted) — plus what `lost` took when the hash survived it;
 * - memory has every accepted event; a type that only ever got invalid events leaves no trace.
 */
import { expect } from 'vitest';
import { isErrorEvent, type ConnectionEvent } from '../../src/core/event.js';
import type { ConnectionMonitor } from '../../src/monitor.js';
import { STATS_FIELDS } from '../../src/persistence/codec.js';
import type { Ledger } from './recorder.js';

/** One type's keys as Redis holds them. */
export interface StoredType {
  /** Every member of `<type>:events`. */
  members: string[];
  /** The `<type>:stats` hash. */
  stats: Record<string, string>;
}

/** Events the scenario took from Redis on purpose, per type. */
export interface Loss {
  /** Ids of the events (acknowledged, then taken). */
  ids: ReadonlySet<string>;
  /** True when the stats hash kept counting them (the test deleted the events key only). */
  isCountedInStats: boolean;
}

/** What {@link checkInvariants} needs. */
export interface InvariantInput {
  monitor: ConnectionMonitor;
  ledger: Ledger;
  /** Reads one type's keys. */
  read(type: string): Promise<StoredType>;
  /** Types only invalid events used. */
  ghostTypes: readonly string[];
  lost?: ReadonlyMap<string, Loss>;
  /** Types allowed to have quarantined batches (none by default). */
  poisoned?: readonly string[];
  /** False (the default) when the scenario's queue never fills: then nothing may be dropped. */
  mayDrop?: boolean;
}

/** A summary of the run, for the test's own assertions and its log line. */
export interface RunSummary {
  recorded: number;
  inRedis: number;
  lost: number;
  dropped: number;
  rejected: number;
  persisted: number;
  refusedInvalid: number;
  /** Valid events refused for a kind beyond `maxKindsPerType`. */
  refusedKinds: number;
}

/** The aggregate counts the stats hash must hold for `events`. */
function expectedStats(
  events: Iterable<Pick<ConnectionEvent, 'kind' | 'error' | 'durationMs'>>,
): Record<string, number> {
  const out: Record<string, number> = {
    [STATS_FIELDS.events]: 0,
    [STATS_FIELDS.errors]: 0,
    [STATS_FIELDS.durCount]: 0,
  };
  for (const e of events) {
    out[STATS_FIELDS.events]!++;
    if (isErrorEvent(e.kind, e.error)) out[STATS_FIELDS.errors]!++;
    if (e.durationMs !== undefined) out[STATS_FIELDS.durCount]!++;
    const k = `${STATS_FIELDS.kinds}${e.kind}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** The counts of a stored stats hash, as numbers (fields absent from it count 0). */
function storedCounts(stats: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {
    [STATS_FIELDS.events]: 0,
    [STATS_FIELDS.errors]: 0,
    [STATS_FIELDS.durCount]: 0,
  };
  for (const [field, value] of Object.entries(stats)) {
    if (
      field === STATS_FIELDS.events ||
      field === STATS_FIELDS.errors ||
      field === STATS_FIELDS.durCount ||
      field.startsWith(STATS_FIELDS.kinds)
    ) {
      out[field] = Number(value);
    }
  }
  return out;
}

/** The stats hash of `type` counts each of `events` once (events, errors, per kind, durations). */
export function expectStatsOf(
  type: string,
  stats: Record<string, string>,
  events: Iterable<Pick<ConnectionEvent, 'kind' | 'error' | 'durationMs'>>,
): void {
  expect(storedCounts(stats), `${type}: the stats hash counts each stored event once`).toEqual(
    expectedStats(events),
  );
}

/** Checks every invariant (see the file comment); returns the run's totals. */
export async function checkInvariants(input: InvariantInput): Promise<RunSummary> {
  const { monitor, ledger } = input;
  const lost = input.lost ?? new Map<string, Loss>();
  const poisoned = new Set(input.poisoned ?? []);

  expect(ledger.mismatches, `${ledger.mismatchCount} answer(s) contradicted the generator`).toEqual(
    [],
  );
  expect(ledger.refused, 'invalid events were generated and refused').toBeGreaterThan(0);

  const p = monitor.getStatus().persistence;
  expect(p.queueDepth, 'queue drained').toBe(0);
  expect(p.circuit).toBe('closed');
  expect(
    p.problems.filter((x) => x.type !== '*'),
    'every problem cleared once healed',
  ).toEqual([]);
  if (input.mayDrop !== true) expect(p.dropped, 'the queue never filled').toBe(0);
  expect(ledger.droppedReported, '`dropped` events add up to the status').toBe(p.dropped);
  const quarantined = ledger.quarantines.reduce((n, q) => n + q.count, 0);
  expect(quarantined, '`quarantined` events add up to `rejected`').toBe(p.rejected);
  for (const q of ledger.quarantines) {
    expect(
      poisoned.has(q.type),
      `quarantined ${q.count} of healthy type ${q.type}: ${q.reason}`,
    ).toBe(true);
  }

  let inRedis = 0;
  let acknowledged = 0;
  let missing = 0;
  let lostTotal = 0;
  const byId = ledger.byId();
  for (const [type, accepted] of ledger.accepted) {
    const stored = await input.read(type);
    const ids = new Set<string>();
    for (const member of stored.members) {
      const id = (JSON.parse(member) as { id: string }).id;
      expect(ids.has(id), `${type}: id ${id} stored twice`).toBe(false);
      ids.add(id);
      const recorded = accepted.get(id);
      expect(
        recorded,
        `${type}: a member no accepted event of the type has: ${member}`,
      ).toBeDefined();
      expect(member, `${type}: stored as recorded`).toBe(JSON.stringify(recorded));
    }
    const gone = lost.get(type);
    for (const id of gone?.ids ?? []) expect(accepted.has(id), `${type}: lost id ${id}`).toBe(true);
    const reached = new Set([...ids, ...(gone?.ids ?? [])]);
    const counted = gone?.isCountedInStats ? reached : ids;
    expectStatsOf(
      type,
      stored.stats,
      [...counted].map((id) => byId.get(id) as ConnectionEvent),
    );
    const live = monitor.getStats(type);
    expect(live?.events, `${type}: memory has every accepted event`).toBe(accepted.size);
    expect(Object.keys(live?.kinds ?? {}).length).toBeLessThanOrEqual(
      monitor.options.maxKindsPerType,
    );
    const unaccounted = accepted.size - reached.size - ledger.quarantinedOf(type);
    expect(
      unaccounted,
      `${type}: more in Redis than recorded minus quarantined`,
    ).toBeGreaterThanOrEqual(0);
    inRedis += ids.size;
    acknowledged += reached.size;
    lostTotal += reached.size - ids.size;
    missing += unaccounted;
  }
  expect(missing, 'what is neither in Redis, lost on purpose nor quarantined was dropped').toBe(
    p.dropped,
  );
  expect(p.persisted, '`persisted` is what reached Redis').toBe(acknowledged);
  expect(ledger.total, 'recorded = persisted + dropped + rejected').toBe(
    p.persisted + p.dropped + p.rejected,
  );
  for (const ghost of input.ghostTypes) {
    expect(monitor.getTypes(), `${ghost} only ever got invalid events`).not.toContain(ghost);
    expect(monitor.getStats(ghost)).toBeNull();
    expect((await input.read(ghost)).members).toEqual([]);
  }
  return {
    recorded: ledger.total,
    inRedis,
    lost: lostTotal,
    dropped: p.dropped,
    rejected: p.rejected,
    persisted: p.persisted,
    refusedInvalid: ledger.refused,
    refusedKinds: ledger.refusedKinds,
  };
}
