import type { Redis } from 'ioredis';
import type { ChannelName } from '../contracts/channels.js';

/**
 * GCRA over Redis's clock, shared by every agent: a message may go when the channel's theoretical
 * arrival time is at most `burst - 1` intervals ahead. Returns 0 (go) or the milliseconds to wait.
 */
const script = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
local ahead = tat - now - interval * (burst - 1)
if ahead > 0 then return ahead end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(interval * burst) + 1000)
return 0`;

declare module 'ioredis' {
  interface RedisCommander {
    vigilPace(key: string, intervalMs: number, burst: number): Promise<number>;
  }
}

export interface Pacer {
  /** 0 when a message may go now (and takes its slot), else how long to wait. */
  take(): Promise<number>;
}

export function createPacer(
  redis: Redis,
  prefix: string,
  channel: ChannelName,
  rate: { perSecond: number; burst: number },
): Pacer {
  if (rate.perSecond <= 0) return { take: async () => 0 };
  redis.defineCommand('vigilPace', { lua: script, numberOfKeys: 1 });
  const key = `${prefix}:pace:${channel}`;
  const interval = 1000 / rate.perSecond;
  return { take: () => redis.vigilPace(key, interval, rate.burst) };
}
