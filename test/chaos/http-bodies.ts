/**
 * fast-check generators of `POST /api/events` requests for the chaos suite: arrays (or single
 * objects) of JSON events, each valid or carrying one defect, and requests the service must refuse
 * whole (malformed or poisoned JSON, scalars, an empty array, too many events, too many bytes, a
 * wrong content type). Each request says what the service must answer, so every answer is checked.
 */
import fc from 'fast-check';
import { MAX_DURATION_MS } from '../../src/core/event.js';
import type { TimeWindow } from './generators.js';

/** One event of a body: JSON-ready, with `at` (an offset from now) resolved at send time. */
export interface BodyEvent {
  readonly fields: Record<string, unknown>;
  /** Offset from now (ms) of its timestamp, set at send time; none: the service's now. */
  readonly atOffsetMs?: number;
  /** Text that replaces the `"durationMs":"@raw"` placeholder (a number JSON can hold, not JS). */
  readonly rawDuration?: string;
  readonly isValid: boolean;
}

/** One generated request. */
export type GeneratedRequest =
  /** Events the route checks one by one: 202 with the valid ones, else 400 (or 429). */
  | { readonly kind: 'events'; readonly events: readonly BodyEvent[]; readonly isArray: boolean }
  /** Refused whole with this status. */
  | {
      readonly kind: 'refused';
      readonly status: 400 | 413;
      readonly body: string;
      readonly contentType: string;
      readonly what: string;
    };

const HTTP_KINDS = ['request', 'response', 'error', 'timeout', 'connect', 'constructor', 'x-y_z'];

const jsonScalar = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);

function validEvent(types: readonly string[], w: TimeWindow): fc.Arbitrary<BodyEvent> {
  return fc
    .record(
      {
        type: fc.constantFrom(...types),
        kind: fc.constantFrom(...HTTP_KINDS),
        durationMs: fc.oneof(
          fc.integer({ min: 0, max: 10_000 }),
          fc.double({ min: 0, max: MAX_DURATION_MS, noNaN: true }),
        ),
        error: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 50 }),
          fc.constant('e'.repeat(3_000)),
        ),
        metadata: fc.dictionary(
          fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== '__proto__'),
          jsonScalar,
          { maxKeys: 6 },
        ),
      },
      { requiredKeys: ['type', 'kind'] },
    )
    .chain((fields) =>
      fc
        .option(fc.integer({ min: -(w.retentionMs - 600_000), max: w.maxClockSkewMs - 30_000 }), {
          nil: undefined,
          freq: 3,
        })
        .map((atOffsetMs): BodyEvent => ({ fields, atOffsetMs, isValid: true })),
    );
}

function invalidEvent(types: readonly string[], w: TimeWindow): fc.Arbitrary<BodyEvent> {
  const base = validEvent(types, w);
  const withField = (name: string, values: fc.Arbitrary<unknown>) =>
    fc.tuple(base, values).map(([e, v]): BodyEvent => ({
      fields: { ...e.fields, [name]: v },
      // The bad timestamp is the one sent.
      atOffsetMs: name === 'timestamp' ? undefined : e.atOffsetMs,
      isValid: false,
    }));
  return fc.oneof(
    withField('type', fc.constantFrom('GLM', '', 'a'.repeat(65), 7, null, 'a:b')),
    withField('kind', fc.constantFrom('Bad Kind', '', 3, false)),
    withField('durationMs', fc.constantFrom(-1, MAX_DURATION_MS + 1, '5', null, 1e308)),
    withField('metadata', fc.constantFrom({ nested: { a: 1 } }, { list: [1] }, [1], 'm')),
    withField('error', fc.constantFrom(42, { message: 'x' })),
    withField('extra', fc.constant(1)),
    withField('timestamp', fc.constantFrom('2026-01-01', -1, 0)),
    base.map((e): BodyEvent => ({ ...e, atOffsetMs: -w.retentionMs - 3_600_000, isValid: false })),
    base.map((e): BodyEvent => ({
      ...e,
      atOffsetMs: w.maxClockSkewMs + 3_600_000,
      isValid: false,
    })),
    // JSON.parse reads 1e400 as Infinity: the schema must refuse it.
    base.map((e): BodyEvent => ({ ...e, rawDuration: '1e400', isValid: false })),
    // A valid name no valid event uses: refused events must not create it.
    base.map((e): BodyEvent => ({
      ...e,
      fields: { ...e.fields, type: 'ghost-http', kind: 'Bad' },
      isValid: false,
    })),
  );
}

/** Requests to `POST /api/events`; `batchEvents` and `bodyBytes` are the service's limits. */
export function generatedRequests(options: {
  types: readonly string[];
  window: TimeWindow;
  batchEvents: number;
  bodyBytes: number;
}): fc.Arbitrary<GeneratedRequest> {
  const { types, window: w, batchEvents, bodyBytes } = options;
  const event = fc.oneof(
    { weight: 6, arbitrary: validEvent(types, w) },
    { weight: 1, arbitrary: invalidEvent(types, w) },
  );
  const refused = (
    status: 400 | 413,
    what: string,
    body: fc.Arbitrary<string>,
    contentType = 'application/json',
  ) => body.map((b): GeneratedRequest => ({ kind: 'refused', status, body: b, contentType, what }));
  return fc.oneof(
    {
      weight: 40,
      // Lengths uniform in 1…40 (fast-check's default size keeps arrays short).
      arbitrary: fc
        .integer({ min: 1, max: 40 })
        .chain((n) => fc.array(event, { minLength: n, maxLength: n }))
        .map((events): GeneratedRequest => ({ kind: 'events', events, isArray: true })),
    },
    {
      weight: 8,
      arbitrary: event.map((e): GeneratedRequest => ({
        kind: 'events',
        events: [e],
        isArray: false,
      })),
    },
    // Every event invalid: 400 naming the first problem.
    {
      weight: 2,
      arbitrary: fc
        .array(invalidEvent(types, w), { minLength: 1, maxLength: 5 })
        .map((events): GeneratedRequest => ({ kind: 'events', events, isArray: true })),
    },
    {
      weight: 1,
      arbitrary: refused(
        413,
        'too many events',
        fc
          .integer({ min: batchEvents + 1, max: batchEvents + 50 })
          .map((n) =>
            JSON.stringify(Array.from({ length: n }, () => ({ type: types[0], kind: 'x' }))),
          ),
      ),
    },
    {
      weight: 1,
      arbitrary: refused(
        413,
        'too many bytes',
        fc.constant(JSON.stringify([{ type: types[0], kind: 'x', error: 'e'.repeat(bodyBytes) }])),
      ),
    },
    { weight: 1, arbitrary: refused(400, 'empty array', fc.constant('[]')) },
    {
      weight: 2,
      arbitrary: refused(
        400,
        'malformed JSON',
        fc
          .tuple(fc.array(validEvent(types, w), { minLength: 1, maxLength: 5 }), fc.nat())
          .map(([events, cut]) => {
            const text = JSON.stringify(events.map((e) => e.fields));
            return text.slice(0, 1 + (cut % (text.length - 1)));
          }),
      ),
    },
    {
      weight: 1,
      arbitrary: refused(
        400,
        'prototype poisoning',
        fc.constantFrom(
          `{"type":"${types[0]}","kind":"x","__proto__":{"polluted":1}}`,
          `[{"type":"${types[0]}","kind":"x","metadata":{"constructor":{"prototype":{"p":1}}}}]`,
        ),
      ),
    },
    {
      weight: 1,
      arbitrary: refused(400, 'JSON scalar', fc.constantFrom('42', '"x"', 'null', 'true')),
    },
    {
      weight: 1,
      arbitrary: refused(
        400,
        'wrong content type',
        fc.constant(JSON.stringify({ type: types[0], kind: 'x' })),
        'text/plain',
      ),
    },
  );
}

/** The body text of an `events` request, timestamps resolved against `nowMs`. */
export function bodyText(r: Extract<GeneratedRequest, { kind: 'events' }>, nowMs: number): string {
  const items = r.events.map((e) => {
    const fields: Record<string, unknown> = { ...e.fields };
    if (e.atOffsetMs !== undefined) fields.timestamp = nowMs + e.atOffsetMs;
    if (e.rawDuration !== undefined) fields.durationMs = '@raw';
    const text = JSON.stringify(fields);
    return e.rawDuration === undefined
      ? text
      : text.replace('"durationMs":"@raw"', `"durationMs":${e.rawDuration}`);
  });
  return r.isArray ? `[${items.join(',')}]` : (items[0] as string);
}
