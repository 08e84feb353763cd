import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/server/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full, gives at most its capacity, then refills at its rate', () => {
    const b = new TokenBucket(5, 10, 1_000);
    let taken = 0;
    while (b.tryTake(1_000)) taken++;
    expect(taken).toBe(10);
    expect(b.tryTake(1_100)).toBe(false); // 0.5 token after 100 ms
    expect(b.tryTake(1_200)).toBe(true); // 1 token after 200 ms
    expect(b.tryTake(1_200)).toBe(false);
  });

  it('never holds more than its capacity however long it waits', () => {
    const b = new TokenBucket(100, 100, 0, 0);
    expect(b.take(1_000, 3_600_000)).toBe(100);
    expect(b.take(1, 3_600_000)).toBe(0);
  });

  it('takes up to what it has: whole tokens only, the fraction is kept', () => {
    const b = new TokenBucket(1_000, 1_000, 0, 0);
    expect(b.take(500, 0.9)).toBe(0); // 0.9 token
    expect(b.take(500, 2.5)).toBe(2); // 2.5 tokens: 2 taken, 0.5 kept
    expect(b.take(500, 3)).toBe(1); // 0.5 + 0.5
    expect(b.take(10, 1_000)).toBe(10);
  });
});

describe('TokenBucket.takeAll', () => {
  it('takes all or nothing, and says how long until all would fit', () => {
    const b = new TokenBucket(10, 100, 0);
    expect(b.takeAll(95, 0)).toBe(0);
    // 5 tokens held: 10 do not fit; none is taken; 5 more take 500 ms at 10/s.
    expect(b.takeAll(10, 0)).toBe(500);
    expect(b.available(0)).toBe(5);
    expect(b.takeAll(10, 500)).toBe(0);
    expect(b.available(500)).toBe(0);
    expect(b.takeAll(101, 1_000_000)).toBe(Infinity);
    expect(b.available(1_000_000)).toBe(100);
  });
});
