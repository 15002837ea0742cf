import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const applyScript = readFileSync(new URL('./series.lua', import.meta.url), 'utf8');

/**
 * Records how many fires/resolves the incident store has acted on. Counts only move forward, so a
 * slow worker finishing late cannot undo what a faster one recorded.
 */
const markSyncedScript = `
for i, key in ipairs(KEYS) do
  local f, r = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local s = redis.call('HMGET', key, 'syncedFires', 'syncedResolves')
  if (tonumber(s[1]) or 0) < f then redis.call('HSET', key, 'syncedFires', f) end
  if (tonumber(s[2]) or 0) < r then redis.call('HSET', key, 'syncedResolves', r) end
end
return 1`;

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
  /** How many times the series fired / resolved, and how many of those were acted on. */
  fires: number;
  resolves: number;
  syncedFires: number;
  syncedResolves: number;
  /** Start of the failing run that fired last; when it last resolved. */
  firedSinceMs: number;
  resolvedAtMs: number;
  value: number;
  /** Observations of this batch older than one the series had already applied: applied in their
   * place (`late`) or, older than anything the series still keeps, dropped (`tooLate`). */
  late: number;
  tooLate: number;
}

type Reply = Array<[number, ...Array<string | number>]>;

declare module 'ioredis' {
  interface RedisCommander {
    vigilApplySeries(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<Reply>;
    vigilMarkSynced(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  }
}

/** A fire the incident store has not acted on yet: open (or find) its incident. */
export const needsOpen = (s: SeriesState) => s.fires > s.syncedFires;
/** A resolve the incident store has not acted on yet. */
export const needsResolve = (s: SeriesState) => s.resolves > s.syncedResolves;

/** Alert series state in Redis: survives agent restarts and is shared by every agent. */
export class SeriesStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = 7 * 86_400_000,
    /** Observations kept per series: how far out of order an observation may arrive and still count. */
    private readonly keep = 16,
  ) {
    redis.defineCommand('vigilApplySeries', { lua: applyScript });
    redis.defineCommand('vigilMarkSynced', { lua: markSyncedScript });
  }

  /** Applies every observation of a batch in one round trip; returns the state of each series touched. */
  async apply(observations: readonly Observation[]): Promise<SeriesState[]> {
    if (observations.length === 0) return [];
    const keys: string[] = [];
    const index = new Map<string, number>();
    const args: Array<string | number> = [this.ttlMs, this.keep];
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
    return reply.map(([k, ...f]) => {
      const [
        firing,
        fires,
        resolves,
        syncedFires,
        syncedResolves,
        firedSince,
        resolvedAt,
        value,
        late,
        tooLate,
      ] = f.map(Number);
      return {
        key: keys[k - 1] as string,
        firing: firing === 1,
        fires: fires ?? 0,
        resolves: resolves ?? 0,
        syncedFires: syncedFires ?? 0,
        syncedResolves: syncedResolves ?? 0,
        firedSinceMs: firedSince ?? 0,
        resolvedAtMs: resolvedAt ?? 0,
        value: value ?? 0,
        late: late ?? 0,
        tooLate: tooLate ?? 0,
      };
    });
  }

  /** Records, in one round trip, that the incident store acted on the fires/resolves these states showed. */
  async markSynced(states: readonly SeriesState[]): Promise<void> {
    if (states.length === 0) return;
    await this.redis.vigilMarkSynced(
      states.length,
      ...states.map((s) => s.key),
      ...states.flatMap((s) => [s.fires, s.resolves]),
    );
  }
}
