import { describe, expect, it } from 'vitest';
import { comparatorCases, value, virtualSeries } from '../support/kinds.js';

describe('threshold', () => {
  it.each(comparatorCases)('a value exactly at the limit with %s breaches: %s', (op, breach) => {
    const s = virtualSeries({ kind: 'threshold', op, value: 80 });
    expect(s.feed(1000, value(1000, 80)).verdict.breach).toBe(breach);
  });

  it('judges nothing before a value, and ignores a value older than the latest', () => {
    const s = virtualSeries({ kind: 'threshold', value: 80 });
    expect(s.feed(1000).verdict.breach).toBeUndefined();
    s.feed(2000, value(2000, 50));
    expect(s.feed(3000, value(1500, 99)).verdict).toMatchObject({ breach: false, value: 50 });
  });

  it('a failed observation (a probe that errored) is not a reading: its value is ignored', () => {
    const s = virtualSeries({ kind: 'threshold', value: 0 });
    s.feed(1000, value(1000, 0, { ok: true }));
    expect(s.feed(2000, value(2000, 1500, { ok: false })).verdict).toMatchObject({ breach: false, value: 0 });
  });

  it('fires once the breach has lasted `for`, from the tick, and says so', () => {
    const s = virtualSeries({ kind: 'threshold', value: 80, for: '5m', unit: '%', label: 'CPU' });
    const j = s.feed(0, value(0, 85));
    expect(s.series.life.firing).toBe(false);
    expect(j.deadline).toBe(300_000);
    s.feed(200_000, value(200_000, 90));
    const at = s.tick(300_000);
    expect(s.series.life).toMatchObject({ firing: true, fires: 1, firedSince: 0 });
    expect(s.summary(at)).toBe('CPU 90 % > 80 % for 5m');
  });

  it('a dip below the limit restarts `for`', () => {
    const s = virtualSeries({ kind: 'threshold', value: 80, for: '1m' });
    s.feed(0, value(0, 85));
    s.feed(30_000, value(30_000, 70));
    s.feed(40_000, value(40_000, 85));
    expect(s.tick(60_000).deadline).toBe(100_000);
    expect(s.series.life.firing).toBe(false);
    s.tick(100_000);
    expect(s.series.life.firing).toBe(true);
  });

  it('keepFiringFor: a clear shorter than it does not resolve; a longer one does', () => {
    const s = virtualSeries({ kind: 'threshold', value: 80, keepFiringFor: '30s' });
    s.feed(0, value(0, 85));
    expect(s.series.life.firing).toBe(true);
    expect(s.feed(10_000, value(10_000, 70)).deadline).toBe(40_000);
    s.feed(20_000, value(20_000, 85));
    s.feed(30_000, value(30_000, 70));
    expect(s.tick(59_999).verdict.breach).toBe(false);
    expect(s.series.life.firing).toBe(true);
    s.tick(60_000);
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1, resolvedAt: 60_000 });
  });

  it('a firing value that goes stale resolves from the tick; a value within the limit sets no deadline', () => {
    const s = virtualSeries({ kind: 'threshold', value: 80, staleAfter: '1m' });
    expect(s.feed(0, value(0, 85)).deadline).toBe(60_000);
    s.tick(60_000);
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
    const quiet = virtualSeries({ kind: 'threshold', value: 80, staleAfter: '1m' });
    expect(quiet.feed(0, value(0, 50)).deadline).toBeUndefined();
  });

  it('shows milliseconds as seconds', () => {
    const s = virtualSeries({ kind: 'threshold', value: 1000, unit: 'ms', label: 'latency' });
    expect(s.summary(s.feed(0, value(0, 1420)))).toBe('latency 1.42 s > 1 s');
  });
});
