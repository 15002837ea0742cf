import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/demo/slack-rate-limit.js';

/** A limiter on a clock the test moves by hand, so Retry-After can be checked to the second. */
function limiterAt(limit: { perSecond: number; burst: number }) {
  let ms = 0;
  const limiter = createRateLimiter(limit, () => ms);
  return { limiter, advance: (by: number) => (ms += by) };
}

describe('Slack emulator rate limiter', () => {
  it('lets a burst through, then asks the caller to wait until a token is due', () => {
    const { limiter, advance } = limiterAt({ perSecond: 1, burst: 3 });
    const answers = Array.from({ length: 5 }, () => limiter.take('chat.postMessage', 'C1'));
    expect(answers).toEqual([undefined, undefined, undefined, 1, 1]);

    advance(999);
    expect(limiter.take('chat.postMessage', 'C1')).toBe(1);
    advance(1);
    expect(limiter.take('chat.postMessage', 'C1')).toBeUndefined();
    expect(limiter.take('chat.postMessage', 'C1')).toBe(1);
  });

  it('computes Retry-After from the refill rate in whole seconds', () => {
    const { limiter, advance } = limiterAt({ perSecond: 0.25, burst: 1 });
    expect(limiter.take('chat.postMessage', 'C1')).toBeUndefined();
    expect(limiter.take('chat.postMessage', 'C1')).toBe(4);
    advance(2500);
    expect(limiter.take('chat.postMessage', 'C1')).toBe(2);
    advance(1500);
    expect(limiter.take('chat.postMessage', 'C1')).toBeUndefined();
  });

  it('counts each channel and each method on its own and leaves other methods alone', () => {
    const { limiter } = limiterAt({ perSecond: 1, burst: 1 });
    expect(limiter.take('chat.postMessage', 'C1')).toBeUndefined();
    expect(limiter.take('chat.postMessage', 'C1')).toBe(1);
    expect(limiter.take('chat.postMessage', 'C2')).toBeUndefined();
    expect(limiter.take('chat.update', 'C1')).toBeUndefined();
    expect(limiter.take('chat.update', 'C1')).toBe(1);
    for (let i = 0; i < 10; i++) expect(limiter.take('conversations.history', 'C1')).toBeUndefined();
    limiter.reset();
    expect(limiter.take('chat.postMessage', 'C1')).toBeUndefined();
  });

  it('never limits when off and refuses nonsense limits', () => {
    const off = createRateLimiter(false);
    for (let i = 0; i < 100; i++) expect(off.take('chat.postMessage', 'C1')).toBeUndefined();
    expect(() => createRateLimiter({ perSecond: 0, burst: 1 })).toThrow(/perSecond.*positive/);
    expect(() => createRateLimiter({ perSecond: 1, burst: 0.5 })).toThrow(/burst.*at least 1/);
  });
});
