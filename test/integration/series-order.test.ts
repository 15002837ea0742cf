import { describe, expect, it } from 'vitest';
import { useSeriesStore } from '../support/series-store.js';
import { type Observation, type SeriesState } from '../../src/rules/series.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

const w = useSeriesStore('order');

/** A series' observations written as text: "." passes, "x" fails, one a second from `startSec`. */
function history(
  name: string,
  pattern: string,
  opts: { count?: number; resolveAfter?: number; startSec?: number } = {},
) {
  const key = `${w.prefix}:series:${name}`;
  return [...pattern].map((c, i): Observation => ({
    key,
    eventId: `${name}-${(opts.startSec ?? 1) + i}`,
    atMs: T0 + ((opts.startSec ?? 1) + i) * 1000,
    ok: c === '.',
    value: 0,
    count: opts.count ?? 3,
    resolveAfter: opts.resolveAfter ?? 1,
  }));
}

/** A deterministic shuffle (so a failure names the order that broke it). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function applyAll(
  batches: Observation[][],
): Promise<{ last: SeriesState; late: number; tooLate: number }> {
  let last: SeriesState | undefined;
  let late = 0;
  let tooLate = 0;
  for (const batch of batches) {
    [last] = await w.store.apply(batch);
    late += last!.late;
    tooLate += last!.tooLate;
  }
  return { last: last!, late, tooLate };
}

/** Observations that arrived after a newer one of the same series had been applied. */
function arrivedLate(batches: Observation[][]): number {
  let newest = -Infinity;
  let late = 0;
  for (const batch of batches) {
    late += batch.filter((o) => o.atMs < newest).length;
    newest = Math.max(newest, ...batch.map((o) => o.atMs));
  }
  return late;
}

const lifecycle = (s: SeriesState) => ({
  firing: s.firing,
  fires: s.fires,
  resolves: s.resolves,
  firedSinceMs: s.firedSinceMs,
  resolvedAtMs: s.resolvedAtMs,
  value: s.value,
});

describe('SeriesStore with observations out of order', () => {
  it('reaches the same state whatever order an outage is observed in, and a re-delivery changes nothing', async () => {
    // Two passes, then six failures from second 3: fires once, since second 3, six in a row.
    const outage = {
      firing: true,
      fires: 1,
      resolves: 0,
      firedSinceMs: T0 + 3000,
      resolvedAtMs: 0,
      value: 6,
    };
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const obs = history(`shuffle-${seed}`, '..xxxxxx');
      const batches = shuffled(obs, seed).map((o) => [o]);
      const { last, late, tooLate } = await applyAll(batches);
      expect(lifecycle(last), `seed ${seed}`).toEqual(outage);
      expect(late, `seed ${seed}`).toBe(arrivedLate(batches));
      expect(tooLate).toBe(0);

      const hash = await w.redis.hgetall(obs[0]!.key);
      for (const batch of batches)
        expect((await w.store.apply(batch))[0]).toMatchObject({ ...outage, late: 0 });
      expect(await w.redis.hgetall(obs[0]!.key)).toEqual(hash);
    }
  });

  it('reaches the same state when batches are evaluated in reverse order', async () => {
    const obs = history('reverse', '..xxxxxx');
    const batches = [obs.slice(0, 3), obs.slice(3, 5), obs.slice(5)].reverse();
    const { last, late } = await applyAll(batches);
    expect(lifecycle(last)).toEqual({
      firing: true,
      fires: 1,
      resolves: 0,
      firedSinceMs: T0 + 3000,
      resolvedAtMs: 0,
      value: 6,
    });
    expect(late).toBe(5);
    const hash = await w.redis.hgetall(obs[0]!.key);
    for (const batch of batches) await w.store.apply(batch);
    expect(await w.redis.hgetall(obs[0]!.key)).toEqual(hash);
  });

  it('still fires and resolves a failure that was over before its observations arrived', async () => {
    // Three failures, then recovery; the recovery's batch is evaluated first.
    const obs = history('blip', 'xxx..');
    const [recovered] = await w.store.apply(obs.slice(3));
    expect(recovered).toMatchObject({ firing: false, fires: 0 });
    const [blip] = await w.store.apply(obs.slice(0, 3));
    expect(lifecycle(blip!)).toEqual({
      firing: false,
      fires: 1,
      resolves: 1,
      firedSinceMs: T0 + 1000,
      resolvedAtMs: T0 + 4000,
      value: 3,
    });
    expect(blip!.late).toBe(3);
  });

  it('keeps a fire that a late pass shows was two shorter runs, and resolves it normally later', async () => {
    const obs = history('split', 'xx.xxx.');
    // Seconds 1-2 and 4-6 fail; the pass at second 3 arrives after the rest.
    const [fired] = await w.store.apply([...obs.slice(0, 2), ...obs.slice(3, 5)]);
    expect(fired).toMatchObject({ firing: true, fires: 1, firedSinceMs: T0 + 1000, value: 4 });
    const [split] = await w.store.apply([obs[2]!]);
    // The fire stands; the run now reported is the one after the pass.
    expect(split).toMatchObject({ firing: true, fires: 1, resolves: 0, value: 2, late: 1 });
    const [more] = await w.store.apply([obs[5]!]);
    expect(more).toMatchObject({ firing: true, value: 3 });
    const [resolved] = await w.store.apply([obs[6]!]);
    expect(resolved).toMatchObject({ firing: false, fires: 1, resolves: 1, resolvedAtMs: T0 + 7000 });
  });

  it('counts an observation older than anything the series keeps as too late, and carries on', async () => {
    const passes = history('old', '.'.repeat(40), { startSec: 100 });
    await w.store.apply(passes);
    const key = passes[0]!.key;
    const hash = await w.redis.hgetall(key);
    const [ancient] = history('old', 'x', { startSec: 50 });
    const [state] = await w.store.apply([ancient!]);
    expect(state).toMatchObject({ firing: false, fires: 0, late: 0, tooLate: 1 });
    expect(await w.redis.hgetall(key)).toEqual(hash);

    // Late but still within what is kept: applied in its place (it breaks no run of passes here).
    const [kept] = history('old', 'x', { startSec: 130 });
    expect((await w.store.apply([{ ...kept!, eventId: 'old-130-late' }]))[0]).toMatchObject({
      late: 1,
      tooLate: 0,
    });

    const [fired] = await w.store.apply(history('old', 'xxx', { startSec: 140 }));
    expect(fired).toMatchObject({ firing: true, fires: 1, firedSinceMs: T0 + 140_000, value: 3 });
  });

  it('keeps memory per series bounded, and still measures runs longer than what it keeps', async () => {
    // 50 failures needed to fire, far more than the 16 observations a series keeps.
    const obs = history('long', `${'.'.repeat(10)}${'x'.repeat(500)}`, { count: 50 });
    const batches: Observation[][] = [];
    for (let i = 0; i < obs.length; i += 7) batches.push(obs.slice(i, i + 7));
    let firstFire: SeriesState | undefined;
    for (const batch of batches) {
      const [s] = await w.store.apply(batch);
      if (s!.firing && !firstFire) firstFire = s;
    }
    // It fired in the batch holding the 50th failure (second 60), since the first failure.
    expect(firstFire).toMatchObject({ fires: 1, firedSinceMs: T0 + 11_000 });
    expect(firstFire!.value).toBeGreaterThanOrEqual(50);
    expect(firstFire!.value).toBeLessThan(57);

    const key = obs[0]!.key;
    const [last] = await w.store.apply(obs.slice(-1)); // already applied: just reads the state
    expect(last).toMatchObject({ firing: true, fires: 1, value: 500, firedSinceMs: T0 + 11_000 });
    const kept = await w.redis.eval(
      "return #cmsgpack.unpack(redis.call('HGET', KEYS[1], 'window')).obs",
      1,
      key,
    );
    expect(kept).toBe(16);
    expect(await w.redis.hlen(key)).toBeLessThanOrEqual(10);
  });
});
