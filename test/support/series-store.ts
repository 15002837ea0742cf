import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { SeriesStore } from '../../src/rules/series.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface SeriesWorld {
  redis: Redis;
  prefix: string;
  store: SeriesStore;
}

/** A runs store (series.lua) on the shared Redis under a prefix of its own per test, cleaned after. */
export function useSeriesStore(tag: string): SeriesWorld {
  const w = {} as SeriesWorld;
  beforeEach(() => {
    w.prefix = `vt-${tag}-${randomBytes(4).toString('hex')}`;
    w.redis = new Redis(REDIS_URL, { connectionName: `${w.prefix}-test` });
    w.store = new SeriesStore(w.redis);
  });
  afterEach(async () => {
    const keys = await w.redis.keys(`${w.prefix}:*`);
    if (keys.length) await w.redis.del(...keys);
    await w.redis.quit();
  });
  return w;
}
