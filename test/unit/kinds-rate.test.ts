import { describe, expect, it } from 'vitest';
import { comparatorCases, fail, pass, sample, value, virtualSeries } from '../support/kinds.js';

const events = (n: number, at: number) => Array.from({ length: n }, () => fail(at));

describe('rate', () => {
  it.each(comparatorCases)('exactly the count with %s breaches: %s', (op, breach) => {
    const s = virtualSeries({ kind: 'rate', op, count: 3, window: '1m' });
    expect(s.feed(1000, ...events(3, 1000)).verdict.breach).toBe(breach);
  });

  it('an empty window is 0 events, and recovery signals do not count by default', () => {
    const s = virtualSeries({ kind: 'rate', count: 1, window: '1m' });
    expect(s.feed(1000).verdict).toMatchObject({ breach: false, value: 0 });
    expect(s.feed(2000, pass(2000), pass(2000)).verdict.value).toBe(0);
    const all = virtualSeries({ kind: 'rate', count: 2, window: '1m', counts: 'all' });
    expect(all.feed(2000, pass(2000), sample(2000)).verdict).toMatchObject({ breach: true, value: 2 });
  });

  it('late events inside the window count; those before it are too late', () => {
    const s = virtualSeries({ kind: 'rate', count: 3, window: '1m' });
    s.feed(100_000, fail(100_000));
    const j = s.feed(100_000, fail(50_000), fail(41_000), fail(39_000));
    expect(j).toMatchObject({ late: 3, tooLate: 1 });
    expect(j.verdict).toMatchObject({ breach: true, value: 3 });
  });

  it('counts a re-delivered event once, and a whole retried batch once', () => {
    const s = virtualSeries({ kind: 'rate', count: 100, window: '1m' });
    const one = fail(1000);
    s.feed(1000, one);
    expect(s.feed(1000, { ...one }).verdict.value).toBe(1);
    const batch = events(50, 2000);
    s.feed(2000, ...batch);
    expect(s.feed(2000, ...batch).verdict.value).toBe(51);
  });

  it('resolves as the window drains, from the tick', () => {
    const s = virtualSeries({ kind: 'rate', count: 3, window: '30s' });
    const j = s.feed(10_000, ...events(3, 10_000));
    expect(s.series.life.firing).toBe(true);
    expect(j.deadline).toBe(41_000);
    const drained = s.tick(41_000);
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
    expect(drained.deadline).toBeUndefined();
  });

  it('sets no deadline where draining cannot change the verdict (> with no breach)', () => {
    const s = virtualSeries({ kind: 'rate', count: 3, window: '30s' });
    expect(s.feed(10_000, fail(10_000)).deadline).toBeUndefined();
    const floor = virtualSeries({ kind: 'rate', op: '<', count: 2, window: '30s' });
    expect(floor.feed(10_000, fail(10_000), fail(10_000)).deadline).toBe(41_000);
    floor.tick(41_000);
    expect(floor.series.life.firing).toBe(true);
  });

  it('counts: increase adds up a counter, and a counter reset counts from zero', () => {
    const s = virtualSeries({ kind: 'rate', count: 100, window: '1m', counts: 'increase', unit: 'errors' });
    s.feed(1000, value(1000, 500));
    expect(s.feed(2000, value(2000, 530)).verdict.value).toBe(30);
    expect(s.feed(3000, value(3000, 20)).verdict.value).toBe(50);
    // An older reading than the last says nothing about growth.
    expect(s.feed(4000, value(2500, 10)).verdict.value).toBe(50);
    const j = s.feed(5000, value(5000, 80));
    expect(j.verdict).toMatchObject({ breach: true, value: 110 });
    expect(s.summary(j, 'api.errors')).toBe('api.errors grew by 110 errors in 1m (>= 100)');
  });

  it('reads well', () => {
    const s = virtualSeries({ kind: 'rate', count: 10, window: '5m', label: 'ERROR lines' });
    expect(s.summary(s.feed(1000, ...events(12, 1000)))).toBe('12 ERROR lines in 5m (>= 10)');
  });
});
