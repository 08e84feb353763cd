import { describe, expect, it } from 'vitest';
import { MAX_REJECTED_IN_A_ROW, MessageRateLimit } from '../../src/server/ws-message-limit.js';

/** Sends one message every `everyMs` from `startMs` until cut off or `max` sent. */
function flood(limit: MessageRateLimit, startMs: number, everyMs: number, max: number) {
  const verdicts = { accepted: 0, limited: 0, cut_off: 0 };
  let now = startMs;
  for (let i = 0; i < max; i++, now += everyMs) {
    const v = limit.admit(now);
    verdicts[v]++;
    if (v === 'cut_off') break;
  }
  return { ...verdicts, now };
}

describe('MessageRateLimit', () => {
  it('cuts off a flood after 1,000 rejected messages although refills let some through', () => {
    const limit = new MessageRateLimit(50, 0);
    // One message a millisecond: the burst of 100, then one in 20 gets a fresh token.
    const v = flood(limit, 0, 1, 10_000);
    expect(v.cut_off).toBe(1);
    expect(v.limited).toBe(MAX_REJECTED_IN_A_ROW - 1);
    expect(v.accepted).toBeGreaterThan(100 + 40); // the trickle went on during the row
  });

  it('ends the row when the client slows below its rate', () => {
    const limit = new MessageRateLimit(50, 0);
    const first = flood(limit, 0, 0.1, 900); // 90 ms: the burst of 100 and 4 refills served
    expect(first).toMatchObject({ accepted: 104, limited: 796, cut_off: 0 });
    // A second later the bucket holds 50: the next message is served with tokens to spare.
    expect(limit.admit(first.now + 1_000)).toBe('accepted');
    expect(limit.rejectedCount).toBe(0);
    const second = flood(limit, first.now + 1_000, 0.1, 900);
    expect(second.cut_off).toBe(0);
  });

  it('is not reset by a message that used the only token that trickled in', () => {
    const limit = new MessageRateLimit(50, 0);
    flood(limit, 0, 0, 110); // 100 accepted, 10 limited, all at t=0
    expect(limit.rejectedCount).toBe(10);
    expect(limit.admit(20)).toBe('accepted'); // exactly one token after 20 ms
    expect(limit.rejectedCount).toBe(10);
    expect(limit.admit(20)).toBe('limited');
    expect(limit.rejectedCount).toBe(11);
  });
});
