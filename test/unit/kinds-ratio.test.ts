import { describe, expect, it } from 'vitest';
import { comparatorCases, fail, pass, sample, virtualSeries } from '../support/kinds.js';

const outcomes = (failed: number, passed: number, at: number) => [
  ...Array.from({ length: failed }, () => fail(at)),
  ...Array.from({ length: passed }, () => pass(at)),
];

describe('ratio', () => {
  it.each(comparatorCases)('exactly at the ratio with %s breaches: %s', (op, breach) => {
    const s = virtualSeries({ kind: 'ratio', op, value: '25%', window: '10m' });
    expect(s.feed(1000, ...outcomes(1, 3, 1000)).verdict.breach).toBe(breach);
  });

  it('an empty window is no breach; events without an outcome are not counted', () => {
    const s = virtualSeries({ kind: 'ratio', value: 0.05, window: '10m' });
    expect(s.feed(1000, sample(1000)).verdict).toMatchObject({ breach: false, value: 0 });
  });

  it('judges nothing under minSamples, so a firing alert does not flap as traffic dips', () => {
    const s = virtualSeries({ kind: 'ratio', value: 0.05, window: '10m', minSamples: 20 });
    expect(s.feed(1000, ...outcomes(5, 5, 1000)).verdict.breach).toBeUndefined();
    expect(s.series.life.firing).toBe(false);
    s.feed(30_000, ...outcomes(5, 5, 30_000));
    expect(s.series.life).toMatchObject({ firing: true, fires: 1 });
    // The first 10 leave the window (slices of 20 s): 10 outcomes, under the minimum, still 50 %.
    expect(s.tick(620_000).verdict).toMatchObject({ breach: undefined, value: 0.5 });
    expect(s.series.life.firing).toBe(true);
    s.tick(640_000);
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
  });

  it('late outcomes inside the window count; before it too late; re-delivered once', () => {
    const s = virtualSeries({ kind: 'ratio', value: 0.5, op: '>=', window: '1m' });
    const p = pass(100_000);
    s.feed(100_000, p);
    const j = s.feed(100_000, fail(50_000), fail(30_000), { ...p });
    expect(j).toMatchObject({ late: 2, tooLate: 1 });
    expect(j.verdict).toMatchObject({ breach: true, value: 0.5 });
  });

  it('reads as a percentage', () => {
    const s = virtualSeries({ kind: 'ratio', value: '5%', window: '10m', minSamples: 20 });
    const j = s.feed(1000, ...outcomes(13, 187, 1000));
    expect(s.summary(j, 'task')).toBe('task failure rate 6.5 % > 5 % over 10m');
  });
});
