import { describe, expect, it } from 'vitest';
import { IngestRateLimit } from '../../src/server/ingest-rate-limit.js';

describe('IngestRateLimit', () => {
  it('admits requests whole while the client has the events, and says when one would fit', () => {
    const limit = new IngestRateLimit({ eventsPerSecond: 100, burst: 1_000, maxClients: 10 });
    expect(limit.admit('a', 1_000, 0)).toBe(0);
    expect(limit.admit('a', 1, 0)).toBe(10);
    expect(limit.admit('a', 50, 250)).toBe(250);
    expect(limit.admit('a', 25, 250)).toBe(0);
    expect(limit.admit('b', 1_000, 250)).toBe(0);
  });

  it('never keeps more than maxClients; the least recently seen is forgotten first', () => {
    const limit = new IngestRateLimit({ eventsPerSecond: 1, burst: 10, maxClients: 3 });
    for (const c of ['a', 'b', 'c']) expect(limit.admit(c, 10, 0)).toBe(0);
    expect(limit.admit('a', 1, 0)).toBeGreaterThan(0); // a is remembered and now the newest
    for (let i = 0; i < 1_000; i++) limit.admit(`x${i}`, 1, 0);
    expect(limit.clientCount).toBe(3);
    // Everyone before the flood of new clients was forgotten.
    expect(limit.admit('a', 10, 0)).toBe(0);
  });
});
