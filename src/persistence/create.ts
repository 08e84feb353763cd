import type { ResolvedOptions } from '../options.js';
import { DisabledPersistence, type Persistence } from './persistence.js';

/** The persistence layer for resolved options (Redis arrives with the persistence issue). */
export function createRedisPersistence(_options: ResolvedOptions): Persistence {
  return new DisabledPersistence();
}
