/** The one status fixture: a healthy Redis-backed status, with the fields a test cares about. */
import type { PersistenceStatus } from '../../src/core/persistence.js';
import type { ServiceStatus } from '../../src/core/status.js';

/** A healthy persistence status (`overrides` win). */
export function persistenceStatus(overrides: Partial<PersistenceStatus> = {}): PersistenceStatus {
  return {
    enabled: true,
    mode: 'redis',
    redisUrl: 'redis://127.0.0.1:6379',
    circuit: 'closed',
    consecutiveFailures: 0,
    workerRunning: true,
    queueDepth: 0,
    persisted: 0,
    dropped: 0,
    rejected: 0,
    problems: [],
    shards: [{ shard: 'redis', circuit: 'closed', consecutiveFailures: 0, queueDepth: 0 }],
    lastFlushAt: null,
    lastError: null,
    recovered: true,
    ...overrides,
  };
}

/** A service status around {@link persistenceStatus}. */
export function serviceStatus(persistence: Partial<PersistenceStatus> = {}): ServiceStatus {
  return {
    instance: 'a',
    state: 'running',
    createdAt: 0,
    uptimeMs: 0,
    types: [],
    bufferSize: 1,
    retentionMs: 1,
    memory: { usedBytes: 0, maxBytes: 67_108_864, events: 0, evicted: 0 },
    persistence: persistenceStatus(persistence),
    version: '0.0.0',
    server: { startedAt: 0, uptimeMs: 0, wsConnections: 0, wsSubscribers: 0, auth: false },
  };
}
