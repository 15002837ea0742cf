import { describe, expect, it } from 'vitest';
import { fail, pass, sample, virtualSeries } from '../support/kinds.js';

describe('consecutive (in-order twin of series.lua)', () => {
  it('fires at exactly `count` failures in a row and reads well', () => {
    const s = virtualSeries({ kind: 'consecutive', count: 3 });
    s.feed(1000, fail(1000), fail(2000));
    expect(s.series.life.firing).toBe(false);
    const j = s.feed(3000, fail(3000));
    expect(s.series.life).toMatchObject({ firing: true, firedSince: 1000 });
    expect(s.summary(j, 'api-health')).toBe('3 consecutive failures of api-health');
  });

  it('a pass breaks the run; resolveAfter passes in a row resolve; no outcome says nothing', () => {
    const s = virtualSeries({ kind: 'consecutive', count: 2, resolveAfter: 2 });
    // Judged after each event, as a replay does: a batch is judged once, at its end.
    for (const e of [fail(1000), pass(2000), fail(3000)]) s.feed(e.atMs, e);
    expect(s.series.life.firing).toBe(false);
    for (const e of [fail(4000), sample(4500), pass(5000)]) s.feed(e.atMs, e);
    expect(s.series.life.firing).toBe(true);
    s.feed(6000, pass(6000));
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
  });

  it('an observation older than the last is too late for the in-order twin', () => {
    const s = virtualSeries({ kind: 'consecutive', count: 2 });
    expect(s.feed(5000, fail(5000), fail(4000)).tooLate).toBe(1);
  });
});
