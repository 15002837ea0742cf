import { describe, expect, it } from 'vitest';
import { fail, pass, sample, virtualSeries } from '../support/kinds.js';

describe('match', () => {
  it('any match fires; recovery signals are not matches; it resolves a cooldown after the last', () => {
    const s = virtualSeries({ kind: 'match', cooldown: '1m' });
    s.feed(1000, pass(1000));
    expect(s.series.life.fires).toBe(0);
    s.feed(2000, sample(2000));
    expect(s.series.life).toMatchObject({ firing: true, fires: 1, firedSince: 2000 });
    const j = s.feed(30_000, fail(30_000));
    expect(j.deadline).toBe(90_000);
    expect(s.summary(j, 'schema validation failure')).toBe(
      'schema validation failure (2 times, each within 1m of the last)',
    );
    s.tick(89_999);
    expect(s.series.life.firing).toBe(true);
    s.tick(90_000);
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
  });

  it('a match after the cooldown is a new incident, counted from one', () => {
    const s = virtualSeries({ kind: 'match', cooldown: '1m' });
    s.feed(0, sample(0));
    s.tick(60_000);
    const j = s.feed(100_000, sample(100_000));
    expect(s.series.life.fires).toBe(2);
    expect(j.verdict).toMatchObject({ value: 1, since: 100_000 });
  });

  it('a match that arrives later than its cooldown still fires, once', () => {
    const s = virtualSeries({ kind: 'match', cooldown: '1m' });
    const late = sample(0);
    const j = s.feed(600_000, late);
    expect(s.series.life).toMatchObject({ firing: true, fires: 1, firedSince: 0 });
    expect(j.deadline).toBe(660_000);
    s.feed(610_000, { ...late });
    expect(s.series.life.fires).toBe(1);
  });
});
