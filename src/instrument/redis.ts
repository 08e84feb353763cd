/**
 * An ioredis client (standalone `Redis` or `Cluster`): connection lifecycle and command latency.
 *
 * ioredis 6 publishes commands on `diagnostics_channel` (`ioredis:command`), but its messages do
 * not say which client sent them, so that channel can neither record one client under its own
 * type nor leave out the monitor's own persistence client talking to the same server. The adapter
 * therefore installs a pass-through `sendCommand` on the one client instance it is given (never on
 * the prototype), and removes it on dispose.
 */
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { nameSchema } from '../core/validate.js';
import { MonitorError } from '../core/errors.js';
import type { ConnectionMonitor } from '../monitor.js';
import {
  SafeRecorder,
  adapterOptionsShape,
  claimTarget,
  parseAdapterOptions,
  type AdapterOptions,
  type Disposer,
} from './adapter.js';
import { isInternalClient } from '../core/internal.js';
import { warnRefusedOnce } from './internal.js';

/** Which commands get latency events. */
export type RedisCommandsOption = 'all' | 'none' | { sampleRate: number };

/** Options of {@link monitorRedisClient}. */
export interface MonitorRedisClientOptions extends AdapterOptions {
  /** Connection type recorded. Default `redis`. */
  type?: string;
  /**
   * Commands recorded: every one, none (lifecycle events only), or a random sample
   * (`sampleRate` from 0 to 1, decided per command). Default `'all'`.
   */
  commands?: RedisCommandsOption;
  /** Record a `request` event when a sampled command is sent. Default `true`. */
  requestEvents?: boolean;
}

const optionsSchema = z.strictObject({
  ...adapterOptionsShape,
  type: nameSchema.default('redis'),
  commands: z
    .union(
      [
        z.enum(['all', 'none']),
        z.strictObject({
          sampleRate: z
            .number({ error: 'must be a number from 0 to 1' })
            .min(0, { error: 'must be a number from 0 to 1' })
            .max(1, { error: 'must be a number from 0 to 1' }),
        }),
      ],
      { error: "must be 'all', 'none' or { sampleRate: 0…1 }" },
    )
    .default('all'),
  requestEvents: z.boolean({ error: 'must be true or false' }).default(true),
});

/** What the adapter reads from an ioredis command. */
interface ObservedCommand {
  name: string;
  resolve: (result: unknown) => unknown;
  reject: (err: Error) => unknown;
}

type SendCommand = (this: unknown, command: ObservedCommand, ...rest: unknown[]) => unknown;

/** ioredis rejects a command that hit `commandTimeout` with this message (it sets no code). */
const COMMAND_TIMEOUT_MESSAGE = 'Command timed out';
const MAX_COMMAND_NAME = 64;
const MAX_ERROR_MESSAGE = 300;

/**
 * Records an ioredis client's lifecycle — `connect`, `ready` (durationMs = handshake after
 * connect), `close` (connection lost or closed; metadata connectedMs = time since ready), `reconnect`
 * (ioredis `reconnecting`; metadata delayMs and attempt since the last ready), `disconnect`
 * (ioredis `end`: no more reconnection), `error` (metadata node for a Cluster's `node error`) — and
 * command latency: `request` then `response` or `error` / `timeout` (ioredis `commandTimeout`),
 * not counting ioredis's own handshake commands,
 * with durationMs and metadata `command` (the name only: arguments and values are never read, and
 * quoted parts of Redis error messages, which can echo arguments, are redacted).
 *
 * Attaching adds an `error` listener; when it is the only one, the adapter prints the same
 * "[ioredis] Unhandled error event" line ioredis would have printed.
 *
 * @returns a disposer that removes the listeners and the `sendCommand` pass-through.
 * @throws MonitorError `CM_ERR_CONFIG` for a bad option, or when already attached to this client
 *   for this monitor (field `target`). A client marked as the monitor's own (`INTERNAL_CLIENT`) is
 *   refused with a warning and a no-op disposer; a client marked later is not recorded from then on.
 */
export function monitorRedisClient(
  client: Redis | Cluster,
  monitor: ConnectionMonitor,
  options: MonitorRedisClientOptions = {},
): Disposer {
  const o = parseAdapterOptions('monitorRedisClient', monitor, optionsSchema, options);
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof (client as { sendCommand?: unknown }).sendCommand !== 'function' ||
    typeof client.on !== 'function'
  ) {
    throw new MonitorError(
      'CM_ERR_CONFIG',
      'invalid argument client: must be an ioredis Redis or Cluster',
      { field: 'client' },
    );
  }
  const type = o.type;
  const sampleRate = o.commands === 'all' ? 1 : o.commands === 'none' ? 0 : o.commands.sampleRate;
  const hasRequestEvents = o.requestEvents;
  if (isInternalClient(client)) {
    warnRefusedOnce(
      client,
      monitor.options.logger,
      { type },
      'connection-monitor: refusing to instrument the monitor’s own Redis client (its traffic would feed back into the monitor)',
    );
    return () => {};
  }
  const release = claimTarget(client, monitor, 'monitorRedisClient');
  const recorder = new SafeRecorder(monitor, type, 'redis', o.onError, () => dispose());
  const emitter = client as unknown as NodeJS.EventEmitter;

  let connectedAt = -1;
  let readyAt = -1;
  let attempt = 0;
  const onConnect = () => {
    connectedAt = performance.now();
    recorder.record({ kind: 'connect' });
  };
  const onReady = () => {
    readyAt = performance.now();
    attempt = 0;
    recorder.record({
      kind: 'ready',
      durationMs: connectedAt < 0 ? undefined : readyAt - connectedAt,
    });
  };
  const onClose = () => {
    // The connected time goes in metadata: durationMs feeds the type's latency stats.
    recorder.record({
      kind: 'close',
      metadata:
        readyAt < 0
          ? undefined
          : { connectedMs: Math.round((performance.now() - readyAt) * 10) / 10 },
    });
    readyAt = -1;
    connectedAt = -1;
  };
  const onReconnecting = (delayMs: unknown) => {
    attempt++;
    recorder.record({
      kind: 'reconnect',
      metadata: { attempt, ...(typeof delayMs === 'number' ? { delayMs } : {}) },
    });
  };
  const onEnd = () => {
    recorder.record({ kind: 'disconnect' });
  };
  const onError = (err: unknown) => {
    recorder.record({ kind: 'error', error: redisErrorMessage(err) });
    // Keep ioredis's behaviour for applications without an error listener of their own.
    if (emitter.listenerCount('error') === 1 && err instanceof Error) {
      console.error('[ioredis] Unhandled error event:', err.stack);
    }
  };
  const onNodeError = (err: unknown, node: unknown) => {
    recorder.record({
      kind: 'error',
      error: redisErrorMessage(err),
      metadata: { node: typeof node === 'string' ? node : null },
    });
  };
  const listeners: [string, (...args: never[]) => void][] = [
    ['connect', onConnect],
    ['ready', onReady],
    ['close', onClose],
    ['reconnecting', onReconnecting],
    ['end', onEnd],
    ['error', onError],
    ['node error', onNodeError],
  ];
  for (const [name, fn] of listeners) emitter.on(name, fn as (...args: unknown[]) => void);

  const target = client as unknown as { sendCommand: SendCommand };
  const hadOwnSendCommand = Object.prototype.hasOwnProperty.call(target, 'sendCommand');
  const original = target.sendCommand;
  const seen = new WeakSet<object>();
  let isActive = true;

  const observe = (command: ObservedCommand) => {
    seen.add(command);
    const name =
      typeof command.name === 'string' ? command.name.slice(0, MAX_COMMAND_NAME) : 'unknown';
    const startedAt = performance.now();
    if (hasRequestEvents) recorder.record({ kind: 'request', metadata: { command: name } });
    const resolve = command.resolve;
    const reject = command.reject;
    let isSettled = false;
    command.resolve = function (this: unknown, value: unknown) {
      const result = resolve.call(this, value);
      // resolve() calls reject() itself when transforming the reply throws; that one counts.
      if (!isSettled) {
        isSettled = true;
        recorder.record({
          kind: 'response',
          durationMs: performance.now() - startedAt,
          metadata: { command: name },
        });
      }
      return result;
    };
    command.reject = function (this: unknown, err: Error) {
      if (!isSettled) {
        isSettled = true;
        const message = err instanceof Error ? err.message : '';
        recorder.record({
          kind: message === COMMAND_TIMEOUT_MESSAGE ? 'timeout' : 'error',
          durationMs: performance.now() - startedAt,
          error: redisErrorMessage(err),
          metadata: { command: name },
        });
      }
      return reject.call(this, err);
    };
  };

  const wrapped: SendCommand = function sendCommand(this: unknown, command, ...rest) {
    if (
      isActive &&
      // Status `connect` is ioredis's handshake (HELLO, AUTH, CLIENT SETINFO, SELECT, INFO): its
      // own commands, some expected to fail. Application commands sent meanwhile wait in the
      // offline queue and pass through here again once the client is ready.
      (client as { status?: unknown }).status !== 'connect' &&
      sampleRate > 0 &&
      typeof command === 'object' &&
      command !== null &&
      !seen.has(command) &&
      (sampleRate >= 1 || Math.random() < sampleRate) &&
      !isInternalClient(client)
    ) {
      try {
        observe(command);
      } catch (err) {
        recorder.fail(err);
      }
    }
    return original.call(this, command, ...rest);
  };
  if (sampleRate > 0) target.sendCommand = wrapped;

  let isDisposed = false;
  const dispose: Disposer = () => {
    if (isDisposed) return;
    isDisposed = true;
    isActive = false;
    recorder.stop();
    for (const [name, fn] of listeners) emitter.off(name, fn as (...args: unknown[]) => void);
    if (target.sendCommand === wrapped) {
      if (hadOwnSendCommand) target.sendCommand = original;
      else delete (target as { sendCommand?: SendCommand }).sendCommand;
    }
    // Otherwise something wrapped sendCommand after us; ours stays in its chain as a pass-through.
    release();
  };
  return dispose;
}

/** The error's message, quoted parts redacted (Redis echoes arguments in quotes), bounded. */
function redisErrorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  const redacted = text.replace(/'[^']*'|"[^"]*"/g, "'…'");
  return redacted.length > MAX_ERROR_MESSAGE
    ? `${redacted.slice(0, MAX_ERROR_MESSAGE - 1)}…`
    : redacted;
}
