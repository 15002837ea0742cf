import { performance } from 'node:perf_hooks';

/**
 * Slack's chat.postMessage limit is about one message per second per channel with short bursts
 * tolerated; chat.update sits in a similar tier with its own counter. `false` turns limiting off.
 */
export type SlackRateLimit = { perSecond: number; burst: number } | false;

/** What the emulator uses when a test asks for "Slack's limit" without numbers. */
export const slackDefaultRateLimit = { perSecond: 1, burst: 3 } as const;

/** Each method gets its own bucket per channel, as Slack counts them separately. */
const limitedMethods = new Set(['chat.postMessage', 'chat.update']);

export interface RateLimiter {
  /** Takes a token for this call; returns the Retry-After (whole seconds, ≥ 1) when there is none. */
  take(method: string, channel: string): number | undefined;
  reset(): void;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(limit: SlackRateLimit, now = () => performance.now()): RateLimiter {
  if (limit === false) return { take: () => undefined, reset: () => undefined };
  const { perSecond, burst } = limit;
  if (!(Number.isFinite(perSecond) && perSecond > 0)) {
    throw new RangeError(`Slack emulator rateLimit.perSecond must be a positive number, got ${perSecond}`);
  }
  if (!(Number.isFinite(burst) && burst >= 1)) {
    throw new RangeError(`Slack emulator rateLimit.burst must be at least 1, got ${burst}`);
  }
  const buckets = new Map<string, Bucket>();
  return {
    take(method, channel) {
      if (!limitedMethods.has(method)) return undefined;
      const key = `${method} ${channel}`;
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return undefined;
      }
      // A refused call costs nothing, as with Slack: the caller may come back once a token is due.
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    },
    reset: () => buckets.clear(),
  };
}
