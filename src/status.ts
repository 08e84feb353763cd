import type { PersistenceStatus } from './persistence/persistence.js';

/** Result of `getStatus()`. */
export interface MonitorStatus {
  instance: string;
  state: 'new' | 'running' | 'closing' | 'closed';
  /** Epoch ms when the monitor was constructed. */
  createdAt: number;
  uptimeMs: number;
  /** Connection types seen so far (recorded or recovered). */
  types: string[];
  bufferSize: number;
  retentionMs: number;
  persistence: PersistenceStatus;
}
