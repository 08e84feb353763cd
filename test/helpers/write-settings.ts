import type { WriteSettings } from '../../src/persistence/write-script.js';

const DAY = 86_400_000;

/** The default retentions and quiet period, as the writer passes them to the write script. */
export const WRITE_SETTINGS: WriteSettings = {
  retentionMs: DAY,
  hourlyRetentionMs: 30 * DAY,
  dailyRetentionMs: 365 * DAY,
  quietMs: 3_600_000,
};
