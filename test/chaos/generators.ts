/**
 * fast-check generators of the chaos suite: events for `recordEvent` (valid ones with edge cases,
 * and invalid ones carrying exactly one defect, so the field the error must name is known) and
 * bodies for `POST /api/events`. Everything is drawn up front with a fixed seed (`fc.sample`), so
 * a run is reproducible from its seed; times are offsets from the clock at record/send time.
 */
import fc from 'fast-check';
import {
  MAX_DURATION_MS,
  MAX_METADATA_KEYS,
  MAX_METADATA_KEY_LENGTH,
  MAX_METADATA_TOTAL_LENGTH,
  MAX_METADATA_VALUE_LENGTH,
} from '../../src/core/event.js';

/** The seed of every sample; `CHAOS_SEED=<n>` explores another one. Printed when a test fails. */
export const SEED = Number(process.env.CHAOS_SEED ?? 20_261_111);

/** When an event happened: the monitor's now, an offset from now (ms), or a raw value. */
export type GeneratedTime =
  { readonly offsetMs: number; readonly asDate: boolean } | { readonly raw: unknown };

/** One generated `recordEvent(type, input)` call. */
export interface GeneratedEvent {
  readonly type: unknown;
  readonly kind: unknown;
  readonly durationMs?: unknown;
  readonly error?: unknown;
  readonly metadata?: unknown;
  readonly time?: GeneratedTime;
  /** Replaces the whole input (an input that is not an event object). */
  readonly input?: unknown;
  /**
   * The one defect that must make `recordEvent` refuse it: the field the error names (its
   * start: `metadata` covers `metadata.user`), or null for a valid event. A valid event can still
   * be refused for a kind beyond `maxKindsPerType`; the recorder models that.
   */
  readonly defect: string | null;
}

/** The window of accepted timestamps the generators aim inside of (or outside of). */
export interface TimeWindow {
  readonly retentionMs: number;
  readonly maxClockSkewMs: number;
}

/** Margin kept from both edges of the window, so the clock moving during a run changes nothing. */
const EDGE_MARGIN_MS = 10 * 60_000;

const KNOWN_KINDS = [
  'connect',
  'disconnect',
  'request',
  'response',
  'error',
  'timeout',
  'reconnect',
];
/**
 * Kinds of the ordinary types: few, so only the `many-kinds` type reaches the kinds bound.
 * `constructor` is a valid name that every plain JavaScript object already "has".
 */
const kinds = fc.constantFrom(...KNOWN_KINDS, 'x', 'custom_kind-2', 'k'.repeat(64), 'constructor');
/** Kinds of a type that exceeds the distinct-kinds bound (64 by default) during the run. */
const manyKinds = fc.integer({ min: 0, max: 99 }).map((n) => `kind-${n}`);

/** Names refused as a type or kind. */
const badNames = fc.oneof(
  fc.constantFrom(
    '',
    'GLM',
    '1glm',
    'has space',
    'glm:events',
    '{glm}',
    'a'.repeat(65),
    'glm\n',
    'é',
    ' glm',
    '-x',
  ),
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 70 })
    .filter((s) => !/^[a-z][a-z0-9_-]{0,63}$/.test(s)),
);

const durations = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: MAX_DURATION_MS, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, Number.MIN_VALUE, 0.001, MAX_DURATION_MS) },
);
const badDurations = fc.constantFrom(
  -1,
  -0.001,
  -Number.MIN_VALUE,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  MAX_DURATION_MS + 1,
  1e308,
  Number.MAX_VALUE,
  '5',
  null,
  true,
);

/** A 1,023-character cut through a surrogate pair: truncation leaves a lone surrogate. */
const SPLIT_PAIR = `${'a'.repeat(1_022)}\u{1f600}tail`;
const errors = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => new Error(s)) },
  { weight: 1, arbitrary: fc.constantFrom('e'.repeat(5_000), SPLIT_PAIR, '\ud800', '"\\\n\u0000') },
);
const badErrors = fc.constantFrom(42, null, { message: 'x' }, ['x'], false);

// `binary` units are code points: an astral one is two characters, hence the length filter.
const metaKey = fc.oneof(
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: MAX_METADATA_KEY_LENGTH })
    .filter((k) => k.length <= MAX_METADATA_KEY_LENGTH),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'k'.repeat(64), 'a"b\\c', '\u0000'),
);
const metaValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(-0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, '\ud800'),
);
/** 32 keys of 64 characters with values of 180: 7,808 characters, within the 8,192 bound. */
const fullMetadata = Object.fromEntries(
  Array.from({ length: MAX_METADATA_KEYS }, (_, i) => [
    `${i}`.padStart(MAX_METADATA_KEY_LENGTH, 'k'),
    'v'.repeat(180),
  ]),
);
const metadatas = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.dictionary(metaKey, metaValue, { maxKeys: 8 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      {},
      fullMetadata,
      { long: 'x'.repeat(MAX_METADATA_VALUE_LENGTH) },
      JSON.parse('{"__proto__":1,"constructor":"c"}') as Record<string, number | string>,
    ),
  },
);
const badMetadatas = fc.oneof(
  fc.constantFrom(
    { nested: { a: 1 } },
    { list: [1, 2] },
    { fn: () => 1 },
    { u: undefined },
    { big: 10n },
    { nan: Number.NaN },
    { inf: Number.NEGATIVE_INFINITY },
    { ['k'.repeat(MAX_METADATA_KEY_LENGTH + 1)]: 1 },
    { '': 1 },
    { long: 'x'.repeat(MAX_METADATA_VALUE_LENGTH + 1) },
    Object.fromEntries(Array.from({ length: MAX_METADATA_KEYS + 1 }, (_, i) => [`k${i}`, i])),
    Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`k${i}`, 'x'.repeat(MAX_METADATA_TOTAL_LENGTH / 8)]),
    ),
    [1, 2],
    'meta',
    42,
    null,
    new Date(0),
    new Map([['a', 1]]),
  ),
  fc
    .dictionary(metaKey, metaValue, { minKeys: 1, maxKeys: 4 })
    .map((d) => ({ ...d, zz: { x: 1 } })),
);

function times(w: TimeWindow): fc.Arbitrary<GeneratedTime | undefined> {
  const oldest = -(w.retentionMs - EDGE_MARGIN_MS);
  const newest = w.maxClockSkewMs - 30_000;
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    // Mostly the last minutes (a batch usually spans one or a few minute rollups) …
    {
      weight: 3,
      arbitrary: fc.record({
        offsetMs: fc.double({ min: -5 * 60_000, max: newest, noNaN: true }),
        asDate: fc.boolean(),
      }),
    },
    // … sometimes anywhere in the accepted window.
    {
      weight: 1,
      arbitrary: fc.record({
        offsetMs: fc.integer({ min: oldest, max: newest }),
        asDate: fc.boolean(),
      }),
    },
  );
}
function badTimes(w: TimeWindow): fc.Arbitrary<GeneratedTime> {
  return fc.oneof(
    fc.record({
      offsetMs: fc.integer({ min: -10 * w.retentionMs, max: -w.retentionMs - 60_000 }),
      asDate: fc.boolean(),
    }),
    fc.record({
      offsetMs: fc.integer({ min: w.maxClockSkewMs + 60_000, max: 1e12 }),
      asDate: fc.boolean(),
    }),
    fc
      .constantFrom<unknown>(
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        '2026-01-01',
        {},
        new Date(Number.NaN),
        -1,
        0,
        8.64e15 + 1,
      )
      .map((raw) => ({ raw })),
  );
}

/** A valid event of one of `types`. `manyKindsType` draws from 100 kinds (bound: 64). */
function validEvent(
  types: readonly string[],
  manyKindsType: string | undefined,
  w: TimeWindow,
): fc.Arbitrary<GeneratedEvent> {
  return fc.constantFrom(...types).chain((type) =>
    fc.record(
      {
        type: fc.constant(type),
        kind: type === manyKindsType ? manyKinds : kinds,
        durationMs: durations,
        error: errors,
        metadata: metadatas,
        time: times(w),
        defect: fc.constant(null),
      },
      { requiredKeys: ['type', 'kind', 'defect'] },
    ),
  );
}

/**
 * Events for `recordEvent`: about one in six invalid, with exactly one defect. An invalid event's
 * type is sometimes one of `ghostTypes`, types no valid event ever uses: they must leave no trace.
 */
export function generatedEvents(options: {
  types: readonly string[];
  manyKindsType?: string;
  ghostTypes: readonly string[];
  window: TimeWindow;
}): fc.Arbitrary<GeneratedEvent> {
  const { types, ghostTypes, window: w } = options;
  const valid = validEvent(types, options.manyKindsType, w);
  const base = validEvent([...types, ...ghostTypes], undefined, w);
  const broken = <K extends keyof GeneratedEvent>(
    field: K,
    values: fc.Arbitrary<GeneratedEvent[K]>,
    defect: string = field,
  ) => fc.tuple(base, values).map(([e, v]): GeneratedEvent => ({ ...e, [field]: v, defect }));
  const invalid = fc.oneof(
    broken('type', badNames),
    broken('kind', fc.oneof(badNames, fc.constantFrom<unknown>(undefined, null, 7, ['x']))),
    broken('durationMs', badDurations),
    broken('time', badTimes(w), 'timestamp'),
    broken('metadata', badMetadatas),
    broken('error', badErrors),
    broken('input', fc.constantFrom<unknown>(null, 'connect', 42, ['connect']), 'event'),
  );
  return fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: invalid });
}

/** Draws `count` generated events with the suite's seed (plus `salt`, one stream per scenario). */
export function sampleEvents(
  arb: fc.Arbitrary<GeneratedEvent>,
  count: number,
  salt: number,
): GeneratedEvent[] {
  return fc.sample(arb, { seed: SEED + salt, numRuns: count });
}

/** The `recordEvent` input of a generated event, its time resolved against `nowMs`. */
export function toInput(g: GeneratedEvent, nowMs: number): unknown {
  if ('input' in g) return g.input;
  const input: Record<string, unknown> = { kind: g.kind };
  if (g.durationMs !== undefined) input.durationMs = g.durationMs;
  if (g.error !== undefined) input.error = g.error;
  if (g.metadata !== undefined) input.metadata = g.metadata;
  if (g.time !== undefined) {
    if ('raw' in g.time) input.timestamp = g.time.raw;
    else {
      const t = nowMs + g.time.offsetMs;
      input.timestamp = g.time.asDate ? new Date(t) : t;
    }
  }
  return input;
}
