import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const applyScript = readFileSync(new URL('./series.lua', import.meta.url), 'utf8');

/**
 * Marks a series as acted on, but only if it has not changed since it was read (its `gen`), so a
 * slow worker cannot mark a newer transition as done.
 */
const markSyncedScript = `
if redis.call('HGET', KEYS[1], 'gen') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'synced', ARGV[2])
  return 1
end
return 0`;

export interface Observation {
  key: string;
  eventId: string;
  atMs: number;
  ok: boolean;
  value: number;
  count: number;
  resolveAfter: number;
}

export interface SeriesState {
  key: string;
  firing: boolean;
  synced: boolean;
  gen: string;
  sinceMs: number;
  changedAtMs: number;
  value: number;
}

type Reply = Array<[number, string, string, string, string, string, string]>;

declare module 'ioredis' {
  interface RedisCommander {
    vigilApplySeries(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<Reply>;
    vigilMarkSynced(key: string, gen: string, firing: string): Promise<number>;
  }
}

/** Alert series state in Redis: survives agent restarts and is shared by every agent. */
export class SeriesStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = 7 * 86_400_000,
  ) {
    redis.defineCommand('vigilApplySeries', { lua: applyScript });
    redis.defineCommand('vigilMarkSynced', { lua: markSyncedScript, numberOfKeys: 1 });
  }

  /** Applies every observation of a batch in one round trip; returns the state of each series touched. */
  async apply(observations: readonly Observation[]): Promise<SeriesState[]> {
    if (observations.length === 0) return [];
    const keys: string[] = [];
    const index = new Map<string, number>();
    const args: Array<string | number> = [this.ttlMs];
    for (const o of observations) {
      let k = index.get(o.key);
      if (k === undefined) {
        keys.push(o.key);
        k = keys.length;
        index.set(o.key, k);
      }
      args.push(k, o.eventId, Math.round(o.atMs), o.ok ? 1 : 0, o.value, o.count, o.resolveAfter);
    }
    const reply = await this.redis.vigilApplySeries(keys.length, ...keys, ...args);
    return reply.map(([k, firing, synced, gen, since, changedAt, value]) => ({
      key: keys[k - 1] as string,
      firing: firing === '1',
      synced: synced === '1',
      gen,
      sinceMs: Number(since),
      changedAtMs: Number(changedAt),
      value: Number(value),
    }));
  }

  async markSynced(state: SeriesState): Promise<boolean> {
    return (await this.redis.vigilMarkSynced(state.key, state.gen, state.firing ? '1' : '0')) === 1;
  }
}
