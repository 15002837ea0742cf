import { describe, expect, it } from 'vitest';
import { sample, virtualSeries } from '../support/kinds.js';

describe('absence', () => {
  it('a never-seen series is watched from its start and fires from the tick', () => {
    const s = virtualSeries({ kind: 'absence', after: '30s' }, 5000);
    const j = s.tick(5000);
    expect(j.verdict.breach).toBe(false);
    expect(j.deadline).toBe(35_001);
    expect(s.tick(35_000).verdict.breach).toBe(false);
    s.tick(35_001);
    expect(s.series.life).toMatchObject({ firing: true, fires: 1 });
  });

  it('silent exactly `after` is not yet absent; a heartbeat resolves; fires once per silence', () => {
    const s = virtualSeries({ kind: 'absence', after: '30s' });
    s.feed(1000, sample(1000));
    expect(s.tick(31_000).verdict.breach).toBe(false);
    const fired = s.tick(31_001);
    expect(s.series.life.fires).toBe(1);
    expect(fired.deadline).toBeUndefined();
    expect(s.summary(fired, 'heartbeat')).toBe('no heartbeat for 30.1s (expected within 30s)');
    s.tick(43_000);
    expect(s.series.life.fires).toBe(1);
    s.feed(43_000, sample(43_000));
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1, fires: 1 });
  });

  it('reads "no X for 42s (expected within 30s)" when judged 42 s into the silence', () => {
    const s = virtualSeries({ kind: 'absence', after: '30s' });
    s.feed(0, sample(0));
    expect(s.summary(s.tick(42_000), 'heartbeat')).toBe('no heartbeat for 42s (expected within 30s)');
  });

  it('event time decides: a late heartbeat counts from when it was sent', () => {
    const s = virtualSeries({ kind: 'absence', after: '30s' });
    s.feed(0, sample(0));
    const j = s.feed(40_000, sample(20_000));
    expect(j.verdict.breach).toBe(false);
    expect(j.deadline).toBe(50_001);
    expect(s.feed(41_000, sample(5000)).deadline).toBe(50_001);
  });
});
