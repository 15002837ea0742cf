import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { RetryableError } from '../errors.js';
import type { AnyKind, Sample, Verdict } from './kinds/kind.js';
import type { SeriesState } from './series.js';
import { advance, newSeries, type WindowSeries } from './window-series.js';

const writeScript = readFileSync(new URL('./window-store.lua', import.meta.url), 'utf8');

/**
 * Keeps a count pair only moving forward, as the runs store does (series.ts), and living exactly as
 * long as its series (KEYS: series, synced, …): no expiry while the series is firing.
 */
const markSyncedScript = `
for i = 1, #KEYS / 2 do
  local series, key = KEYS[2 * i - 1], KEYS[2 * i]
  local cur = redis.call('GET', key)
  local f, r = 0, 0
  if cur then f, r = string.match(cur, '^(%d+) (%d+)$') end
  f = math.max(tonumber(f) or 0, tonumber(ARGV[2 * i]))
  r = math.max(tonumber(r) or 0, tonumber(ARGV[2 * i + 1]))
  local ttl = redis.call('PTTL', series)
  if ttl == -1 then
    redis.call('SET', key, f .. ' ' .. r)
  else
    redis.call('SET', key, f .. ' ' .. r, 'PX', ttl > 0 and ttl or ARGV[1])
  end
end
return 1`;

declare module 'ioredis' {
  interface RedisCommander {
    vigilWriteWindows(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number[]>;
    vigilMarkWindowsSynced(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  }
}

/** One series to judge: its samples of this batch (none for a tick) and the condition in force. */
export interface WindowInput {
  key: string;
  rule: string;
  fingerprint: string;
  labels: Record<string, string>;
  kind: AnyKind;
  condition: { kind: string };
  samples: readonly Sample[];
}

export interface WindowResult {
  input: WindowInput;
  state: SeriesState;
  series: WindowSeries;
  verdict: Verdict;
}

/** Writers racing on one series retry; beyond this many rounds something is wrong. */
const MAX_ROUNDS = 25;

/**
 * A pause before another round, random and growing: writers that lost a race on a hot series all
 * retrying at once would mostly lose again (every events worker of every agent on one series).
 */
const backoff = (round: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** round)));

/**
 * Window series in Redis, shared by every agent. A batch costs one MGET, one script (a GET and a SET
 * per series, one ZADD of the deadlines) and, for the few that act, one more script: about two Redis
 * commands per series touched, however many events each got.
 */
export class WindowStore {
  readonly deadlines: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlMs = 7 * 86_400_000,
  ) {
    this.deadlines = `${prefix}:deadlines`;
    redis.defineCommand('vigilWriteWindows', { lua: writeScript });
    redis.defineCommand('vigilMarkWindowsSynced', { lua: markSyncedScript });
  }

  async apply(inputs: readonly WindowInput[], nowMs: number): Promise<WindowResult[]> {
    const done: WindowResult[] = [];
    let todo = inputs;
    for (let round = 0; todo.length > 0; round++) {
      if (round === MAX_ROUNDS)
        throw new RetryableError('E_SERIES_CONTENDED', `${todo.length} series kept changing under us`);
      if (round > 0) await backoff(round);
      const read = await this.read(todo.map((i) => i.key));
      const judged = todo.map((input, i) => {
        const { series, version, synced, hasSynced } = read[i] as Read;
        const s = series ?? newSeries(input.kind, input.condition, input, nowMs);
        const j = advance(s, input.kind, input.condition, input.samples, nowMs);
        return { input, series: s, version, j, synced, hasSynced };
      });
      const args: Array<string | number> = [this.ttlMs];
      for (const x of judged)
        args.push(
          x.version,
          JSON.stringify(x.series),
          x.j.deadline ?? '',
          x.series.life.firing ? 1 : 0,
          x.hasSynced ? 1 : 0,
        );
      const conflicts = new Set(
        await this.redis.vigilWriteWindows(
          2 * judged.length + 1,
          ...judged.flatMap((x) => [windowKey(x.input.key), syncedKey(x.input.key)]),
          this.deadlines,
          ...args,
        ),
      );
      for (const [i, x] of judged.entries()) {
        if (conflicts.has(i + 1)) continue;
        const life = x.series.life;
        done.push({
          input: x.input,
          series: x.series,
          verdict: x.j.verdict,
          state: {
            key: x.input.key,
            firing: life.firing,
            fires: life.fires,
            resolves: life.resolves,
            syncedFires: x.synced[0],
            syncedResolves: x.synced[1],
            firedSinceMs: life.firedSince,
            resolvedAtMs: life.resolvedAt,
            value: life.value,
            late: x.j.late,
            tooLate: x.j.tooLate,
          },
        });
      }
      todo = judged.filter((_, i) => conflicts.has(i + 1)).map((x) => x.input);
    }
    return done;
  }

  /** Series whose state can change with no event by `nowMs` (a window draining, a silence growing). */
  async due(nowMs: number, limit: number): Promise<Array<{ key: string; series: WindowSeries | undefined }>> {
    const due = await this.redis.zrangebyscore(this.deadlines, '-inf', nowMs, 'LIMIT', 0, limit);
    // Entries not of a window key (an older layout) would come back every tick: dropped here.
    const strays = due.filter((k) => !k.endsWith(WINDOW_SUFFIX));
    if (strays.length > 0) await this.redis.zrem(this.deadlines, ...strays);
    const keys = due.filter((k) => k.endsWith(WINDOW_SUFFIX)).map((k) => k.slice(0, -WINDOW_SUFFIX.length));
    if (keys.length === 0) return [];
    const read = await this.read(keys);
    return keys.map((key, i) => ({ key, series: read[i]?.series }));
  }

  /** Stops looking at series that are gone (expired, or their rule removed). */
  async forget(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.redis.zrem(this.deadlines, ...keys.map(windowKey));
  }

  async markSynced(states: readonly SeriesState[]): Promise<void> {
    if (states.length === 0) return;
    await this.redis.vigilMarkWindowsSynced(
      2 * states.length,
      ...states.flatMap((s) => [windowKey(s.key), syncedKey(s.key)]),
      this.ttlMs,
      ...states.flatMap((s) => [s.fires, s.resolves]),
    );
  }

  private async read(keys: readonly string[]): Promise<Read[]> {
    const values = await this.redis.mget(...keys.flatMap((k) => [windowKey(k), syncedKey(k)]));
    return keys.map((_, i) => {
      const synced = /^(\d+) (\d+)$/.exec(values[2 * i + 1] ?? '');
      return {
        ...parse(values[2 * i]),
        synced: [Number(synced?.[1] ?? 0), Number(synced?.[2] ?? 0)] as const,
        hasSynced: values[2 * i + 1] != null,
      };
    });
  }
}

interface Read {
  series: WindowSeries | undefined;
  /** As the write script reads it: -1 for none (or a text it cannot read) */
  version: number;
  synced: readonly [number, number];
  /** Whether the synced-counts key exists: only then must a write keep its expiry in step. */
  hasSynced: boolean;
}

/**
 * A text that is not a series (damaged by hand, say) is written over as if absent, with the version
 * the write script sees in it, so it is replaced rather than retried as a conflict forever.
 */
function parse(text: string | null | undefined): Pick<Read, 'series' | 'version'> {
  if (!text) return { series: undefined, version: -1 };
  const version = Number(/^\{"v":(\d+)/.exec(text)?.[1] ?? -1);
  try {
    const series = JSON.parse(text) as WindowSeries;
    if (typeof series === 'object' && series !== null && series.v === version && series.life)
      return { series, version };
  } catch {
    // fall through: not a series
  }
  return { series: undefined, version };
}

/**
 * Window series keys have a suffix of their own: the runs store keeps a hash at the bare series
 * key, and a rule that changes kind (consecutive ↔ windowed) must not meet the other store's type.
 */
const WINDOW_SUFFIX = ':w';
const windowKey = (key: string) => `${key}${WINDOW_SUFFIX}`;
const syncedKey = (key: string) => `${key}${WINDOW_SUFFIX}:synced`;

/** Every key a series may have in either store: what starting it over deletes. */
export const allSeriesKeys = (key: string) => [key, windowKey(key), syncedKey(key)];
