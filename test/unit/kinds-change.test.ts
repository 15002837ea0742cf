import { describe, expect, it } from 'vitest';
import { sample, virtualSeries } from '../support/kinds.js';

const v = (at: number, field: string) => sample(at, { field });

describe('change', () => {
  it('the first value is not a change; a new value fires and resolves after the cooldown', () => {
    const s = virtualSeries({ kind: 'change', field: 'labels.version', cooldown: '1m' });
    s.feed(1000, v(1000, '1.2'));
    expect(s.feed(2000, v(2000, '1.2')).verdict.breach).toBe(false);
    const j = s.feed(3000, v(3000, '1.3'));
    expect(s.series.life).toMatchObject({ firing: true, fires: 1, firedSince: 3000 });
    expect(s.summary(j, 'api')).toBe('api labels.version changed from "1.2" to "1.3"');
    expect(j.deadline).toBe(63_000);
    s.tick(63_000);
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
  });

  it('a value older than the latest is history, not a change; a late change still fires', () => {
    const s = virtualSeries({ kind: 'change', field: 'value', cooldown: '1m' });
    s.feed(10_000, v(10_000, 'a'));
    s.feed(20_000, v(5000, 'b'));
    expect(s.series.life.fires).toBe(0);
    const j = s.feed(500_000, v(30_000, 'c'));
    expect(s.series.life.fires).toBe(1);
    expect(j.deadline).toBe(560_000);
  });

  it('events without the field say nothing', () => {
    const s = virtualSeries({ kind: 'change', field: 'data.leader' });
    s.feed(1000, v(1000, 'n1'));
    expect(s.feed(2000, sample(2000)).verdict.breach).toBe(false);
    expect(s.series.life.fires).toBe(0);
  });
});
