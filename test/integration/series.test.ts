import { describe, expect, it } from 'vitest';
import { useSeriesStore } from '../support/series-store.js';
import {
  needsOpen,
  needsResolve,
  SeriesStore,
  type Observation,
  type SeriesState,
} from '../../src/rules/series.js';

const w = useSeriesStore('series');

const T0 = Date.parse('2025-01-01T00:00:00Z');

/** Observations of one series, `count` failures in a row fire, `resolveAfter` oks resolve. */
function series(name: string, count = 3, resolveAfter = 1) {
  const key = `${w.prefix}:series:${name}`;
  let n = 0;
  const obs = (ok: boolean, atSec?: number, id?: string): Observation => {
    n++;
    return {
      key,
      eventId: id ?? `${name}-${n}`,
      atMs: T0 + (atSec ?? n) * 1000,
      ok,
      value: 0,
      count,
      resolveAfter,
    };
  };
  return {
    key,
    fail: (atSec?: number, id?: string) => obs(false, atSec, id),
    ok: (atSec?: number, id?: string) => obs(true, atSec, id),
  };
}

/** Applies observations one batch each, returning the state after each. */
async function oneByOne(observations: Observation[]): Promise<SeriesState[]> {
  const out: SeriesState[] = [];
  for (const o of observations) {
    const [state] = await w.store.apply([o]);
    out.push(state!);
  }
  return out;
}

describe('SeriesStore.apply on real Redis', () => {
  it('fires exactly at the Nth consecutive failure, not at N-1', async () => {
    const s = series('api', 3);
    const states = await oneByOne([s.fail(), s.fail(), s.fail()]);
    expect(states.map((x) => x.firing)).toEqual([false, false, true]);
    const fired = states[2]!;
    expect(fired).toMatchObject({
      key: s.key,
      firing: true,
      fires: 1,
      syncedFires: 0,
      value: 3,
      // The incident starts at the first failure of the run, not at the third that fired it.
      firedSinceMs: T0 + 1000,
    });
  });

  it('fires at the Nth failure inside one batch as well', async () => {
    const s = series('api', 3);
    expect((await w.store.apply([s.fail(), s.fail()]))[0]!.firing).toBe(false);
    const [state] = await w.store.apply([s.fail()]);
    expect(state).toMatchObject({ firing: true, value: 3 });

    const t = series('other', 4);
    const [all] = await w.store.apply([t.fail(), t.fail(), t.fail(), t.fail()]);
    expect(all).toMatchObject({ firing: true, fires: 1, value: 4, firedSinceMs: T0 + 1000 });
  });

  it('an ok in between resets the count', async () => {
    const s = series('api', 3);
    const states = await oneByOne([s.fail(), s.fail(), s.ok(), s.fail(), s.fail()]);
    expect(states.every((x) => !x.firing)).toBe(true);
    const [fired] = await w.store.apply([s.fail()]);
    // The new run started after the ok: at the 4th observation.
    expect(fired).toMatchObject({ firing: true, fires: 1, value: 3, firedSinceMs: T0 + 4000 });
  });

  it('keeps counting failures while firing, and resolves after resolveAfter oks in a row', async () => {
    const s = series('api', 2, 2);
    await oneByOne([s.fail(), s.fail()]);
    const [still] = await w.store.apply([s.fail()]);
    expect(still).toMatchObject({ firing: true, fires: 1, value: 3 });

    // One ok is not enough, and a failure in between starts the oks over.
    const states = await oneByOne([s.ok(), s.fail(), s.ok()]);
    expect(states.map((x) => x.firing)).toEqual([true, true, true]);
    const [resolved] = await w.store.apply([s.ok()]);
    expect(resolved).toMatchObject({ firing: false, fires: 1, resolves: 1, resolvedAtMs: T0 + 7000 });
  });

  it('changes nothing when the same batch is applied again (a re-delivered job)', async () => {
    const s = series('api', 3);
    const batch = [s.fail(), s.fail()];
    const first = await w.store.apply(batch);
    const hash = await w.redis.hgetall(s.key);
    expect(await w.store.apply(batch)).toEqual(first);
    expect(await w.store.apply(batch)).toEqual(first);
    expect(await w.redis.hgetall(s.key)).toEqual(hash);

    // After firing, re-applying the firing batch does not count a second fire.
    const fire = [s.fail()];
    const [fired] = await w.store.apply(fire);
    expect(fired).toMatchObject({ firing: true, value: 3 });
    expect(await w.store.apply(fire)).toEqual([fired]);
    expect(await w.store.apply([...batch, ...fire])).toEqual([fired]);
  });

  it('changes nothing on re-delivery even when several events share a timestamp', async () => {
    // Log lines often carry second-resolution times: two failures, same `at`, different ids.
    const s = series('log', 3);
    const batch = [s.fail(10, 'line-a'), s.fail(10, 'line-b')];
    const [first] = await w.store.apply(batch);
    expect(first).toMatchObject({ firing: false });
    const [again] = await w.store.apply(batch);
    // Two real failures do not fire a 3-failure rule, however often their batch is delivered.
    expect(again).toEqual(first);
    const [third] = await w.store.apply([s.fail(10, 'line-c')]);
    expect(third).toMatchObject({ firing: true, value: 3 });
  });

  it('applies a late observation in its place without undoing what already happened', async () => {
    const s = series('api', 3);
    await w.store.apply([s.fail(10), s.fail(11)]);
    // A late ok from before the failures does not reset them, and is counted as late.
    const [late] = await w.store.apply([s.ok(5)]);
    expect(late).toMatchObject({ firing: false, late: 1, tooLate: 0 });
    const [fired] = await w.store.apply([s.fail(12)]);
    expect(fired).toMatchObject({ firing: true, value: 3, firedSinceMs: T0 + 10_000, late: 0 });

    // Late failures from before the recovery fall inside the incident that already ran: they do not
    // fire it again, they only lengthen the run of failures it reports.
    const [resolved] = await w.store.apply([s.ok(20)]);
    expect(resolved!.firing).toBe(false);
    const [stale] = await w.store.apply([s.fail(15), s.fail(16), s.fail(17)]);
    expect(stale).toEqual({ ...resolved, value: 6, late: 3 });
  });

  it('keeps a fire pending until markSynced, and a late markSynced cannot undo a newer one', async () => {
    const s = series('api', 2);
    const [fired] = await w.store.apply([s.fail(), s.fail()]);
    expect(fired).toMatchObject({ firing: true, fires: 1, syncedFires: 0 });
    expect(needsOpen(fired!)).toBe(true);
    // Nobody acted on it yet: every later look still shows the fire as pending.
    const [later] = await w.store.apply([s.fail()]);
    expect(needsOpen(later!)).toBe(true);

    // One worker acts on fire+resolve; a slow one finishing later with the older state changes nothing.
    const [resolved] = await w.store.apply([s.ok()]);
    expect(resolved).toMatchObject({ firing: false, fires: 1, resolves: 1 });
    await w.store.markSynced([resolved!]);
    await w.store.markSynced([later!]);
    const [settled] = await w.store.apply([s.ok()]);
    expect(settled).toMatchObject({ syncedFires: 1, syncedResolves: 1 });
    expect(needsOpen(settled!) || needsResolve(settled!)).toBe(false);
  });

  it('keeps both a fire and its resolve pending when they happen within one batch', async () => {
    const s = series('blip', 3);
    const [state] = await w.store.apply([s.fail(), s.fail(), s.fail(), s.ok()]);
    expect(state).toMatchObject({
      firing: false,
      fires: 1,
      resolves: 1,
      firedSinceMs: T0 + 1000,
      resolvedAtMs: T0 + 4000,
    });
    expect(needsOpen(state!)).toBe(true);
    expect(needsResolve(state!)).toBe(true);
  });

  it('applies many series in one call and returns each once, in first-seen order', async () => {
    const all = Array.from({ length: 50 }, (_, i) => series(`s${i}`, (i % 4) + 1));
    // Interleave: round r gives every series its r-th failure.
    const batch: Observation[] = [];
    for (let round = 0; round < 3; round++) for (const s of all) batch.push(s.fail());
    const states = await w.store.apply(batch);
    expect(states.map((x) => x.key)).toEqual(all.map((s) => s.key));
    // Series needing at most 3 failures fire; those needing 4 do not.
    states.forEach((state, i) => {
      const count = (i % 4) + 1;
      expect(state.firing, `series ${i} (count ${count})`).toBe(count <= 3);
      expect(state.fires).toBe(count <= 3 ? 1 : 0);
    });
  });

  it('expires idle series so Redis does not grow forever', async () => {
    const ttlMs = 60_000;
    const short = new SeriesStore(w.redis, ttlMs);
    const s = series('api', 3);
    await short.apply([s.fail()]);
    const pttl = await w.redis.pttl(s.key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(ttlMs);
  });

  it('returns nothing and touches nothing for an empty batch', async () => {
    expect(await w.store.apply([])).toEqual([]);
    expect(await w.redis.keys(`${w.prefix}:*`)).toEqual([]);
  });
});
