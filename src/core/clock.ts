/** Source of the current time in Unix epoch milliseconds; injectable so tests need no sleeps. */
export interface Clock {
  now(): number;
}

/** The real clock (`Date.now`). */
export const systemClock: Clock = { now: () => Date.now() };
