/**
 * Calls to one shard through its breaker. Only a connection-level failure is thrown inside the
 * breaker (so only it counts there); the per-batch outcomes of a write come back either way.
 */
import { isCircuitOpenError, type FlushBreaker } from './breaker.js';
import type { EncodedBatch } from './codec.js';
import type { Failure } from './failures.js';

/** Where the writer's batches go. */
export interface BatchSink {
  /** The shard (breaker) a type's batches go to: `redis`, or a cluster master's `host:port`. */
  shardOf(type: string): string;
  /**
   * Writes type-batches of one shard in one round trip. Resolves with one entry per batch, in
   * order: null when written, else why not (reasons safe to show). Rejects only when nothing
   * could be attempted (a connection-level failure for them all).
   */
  write(shard: string, batches: readonly EncodedBatch[]): Promise<(Failure | null)[]>;
  /** A cheap round trip to `shard`: the half-open probe when nothing waits for it. */
  probe(shard: string): Promise<void>;
}

/** What a write to a shard came to. */
export type ShardWrite =
  /** The circuit is open: nothing was sent. */
  | { readonly state: 'held' }
  /** A connection-level failure (counted by the breaker); outcomes when the write got that far. */
  | {
      readonly state: 'failed';
      readonly error: string;
      readonly outcomes?: readonly (Failure | null)[];
    }
  /** Every batch answered: null when written, else its own failure. */
  | { readonly state: 'answered'; readonly outcomes: readonly (Failure | null)[] };

/** A connection-level failure thrown inside a breaker, so it counts for that shard only. */
class ConnectionFailure extends Error {
  readonly code = 'CM_CONNECTION_FAILURE';
  constructor(
    message: string,
    readonly outcomes?: readonly (Failure | null)[],
  ) {
    super(message);
  }
}

const text = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Writes one shard's batches through its breaker (one round trip). */
export async function writeToShard(
  breaker: FlushBreaker,
  sink: BatchSink,
  shard: string,
  batches: readonly EncodedBatch[],
  onSent: () => void,
): Promise<ShardWrite> {
  try {
    const outcomes = await breaker.execute(async () => {
      onSent();
      let out: (Failure | null)[];
      try {
        out = await sink.write(shard, batches);
      } catch (err) {
        throw new ConnectionFailure(text(err));
      }
      const lost = out.find((f) => f?.isConnection === true);
      if (lost) throw new ConnectionFailure(lost.reason, out);
      return out;
    });
    return { state: 'answered', outcomes };
  } catch (err) {
    if (isCircuitOpenError(err)) return { state: 'held' };
    const outcomes = err instanceof ConnectionFailure ? err.outcomes : undefined;
    return { state: 'failed', error: text(err), ...(outcomes === undefined ? {} : { outcomes }) };
  }
}

/** The half-open probe of a shard with nothing to write: null when it answered, else why not. */
export async function probeShard(
  breaker: FlushBreaker,
  sink: BatchSink,
  shard: string,
): Promise<string | null> {
  try {
    await breaker.execute(async () => {
      try {
        await sink.probe(shard);
      } catch (err) {
        throw new ConnectionFailure(text(err));
      }
    });
    return null;
  } catch (err) {
    return isCircuitOpenError(err) ? null : text(err);
  }
}
