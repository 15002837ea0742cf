import { describe, expect, it } from 'vitest';
import { conditionSchema, kindOf } from '../../src/rules/kinds/registry.js';
import { advance } from '../../src/rules/window-series.js';
import { fail, value, virtualSeries } from '../support/kinds.js';

describe('window series', () => {
  it('a rule that changes kind starts a fresh state and keeps its lifecycle', () => {
    const s = virtualSeries({ kind: 'rate', count: 1, window: '1m' });
    s.feed(1000, fail(1000));
    expect(s.series.life.firing).toBe(true);
    const threshold = conditionSchema.parse({ kind: 'threshold', value: 80 });
    const j = advance(s.series, kindOf(threshold), threshold, [value(2000, 50)], 2000);
    expect(s.series.k).toBe('threshold');
    expect(j.verdict).toMatchObject({ breach: false, value: 50 });
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
  });

  it('keeps evidence of the newest failing event, not of a late one', () => {
    const s = virtualSeries({ kind: 'rate', count: 5, window: '1m' });
    s.feed(2000, fail(2000, { evidence: 'new' }), fail(1000, { evidence: 'old' }));
    expect(s.series.ev).toBe('new');
  });

  it('has no deadline when nothing can change without an event', () => {
    for (const c of [
      { kind: 'rate', count: 5, window: '1m' },
      { kind: 'threshold', value: 80 },
      { kind: 'match' },
      { kind: 'change', field: 'value' },
    ]) {
      const s = virtualSeries(c);
      expect(s.feed(1000).deadline, c.kind).toBeUndefined();
    }
  });
});
