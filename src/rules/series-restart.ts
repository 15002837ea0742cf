import type { Redis } from 'ioredis';
import { seriesKey } from './fingerprint.js';
import { allSeriesKeys } from './window-store.js';

/**
 * Starts a series over after a person resolved its incident by hand. Its state still says firing, so
 * without this it would never fire again until the condition cleared first. From nothing, a
 * condition that still holds fires again once it has held for the rule's count or `for` — a new
 * incident, which says it fired again after the hand resolve.
 */
export function seriesRestarter(redis: Redis, prefix: string) {
  return async (fingerprint: string): Promise<void> => {
    await redis.del(...allSeriesKeys(seriesKey(prefix, fingerprint)));
  };
}
