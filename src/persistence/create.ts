import type { ResolvedOptions } from '../options.js';
import type { Persistence } from './persistence.js';
import { RedisPersistence } from './redis-persistence.js';

/** The Redis persistence layer for resolved options. */
export function createRedisPersistence(options: ResolvedOptions): Persistence {
  return new RedisPersistence(options);
}
