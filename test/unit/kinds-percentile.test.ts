import { describe, expect, it } from 'vitest';
import { comparatorCases, value, virtualSeries } from '../support/kinds.js';

const latencies = (at: number, ...ms: number[]) => ms.map((v) => value(at, v));

describe('percentile', () => {
  it.each(comparatorCases)('exactly at the limit with %s breaches: %s', (op, breach) => {
    const s = virtualSeries({ kind: 'percentile', percentile: 99, op, value: 1000, window: '5m' });
    expect(s.feed(1000, ...latencies(1000, 1000, 1000, 1000)).verdict.breach).toBe(breach);
  });

  it('an empty window is no breach; under minSamples judges nothing', () => {
    const s = virtualSeries({ kind: 'percentile', percentile: 99, value: 1000, window: '5m', minSamples: 5 });
    expect(s.feed(1000).verdict).toMatchObject({ breach: false, value: 0 });
    expect(s.feed(2000, ...latencies(2000, 5000, 5000)).verdict.breach).toBeUndefined();
    expect(s.feed(3000, ...latencies(3000, 5000, 5000, 5000)).verdict.breach).toBe(true);
  });

  it('p99 of 1..1000 ms is 990 within 2 %, and late values inside the window count', () => {
    const s = virtualSeries({ kind: 'percentile', percentile: 99, value: 950, window: '5m' });
    s.feed(400_000, value(400_000, 1));
    const old = Array.from({ length: 999 }, (_, i) => value(200_000, i + 2));
    const j = s.feed(400_000, ...old, value(90_000, 1e6));
    expect(j).toMatchObject({ late: 1000, tooLate: 1 });
    expect(Math.abs(j.verdict.value / 990 - 1)).toBeLessThanOrEqual(0.02);
    expect(j.verdict.breach).toBe(true);
  });

  it('resolves as the slow requests drain out of the window', () => {
    const s = virtualSeries({ kind: 'percentile', percentile: 90, value: 500, window: '1m' });
    s.feed(0, ...latencies(0, 900, 900));
    expect(s.series.life.firing).toBe(true);
    const j = s.feed(30_000, ...latencies(30_000, 100, 100, 100));
    expect(j.deadline).toBe(62_000);
    s.tick(62_000);
    expect(s.series.life).toMatchObject({ firing: false, resolves: 1 });
  });

  it('reads "p99 latency 1.42 s > 1 s over 5m"', () => {
    const s = virtualSeries({
      kind: 'percentile',
      percentile: 99,
      value: 1000,
      window: '5m',
      unit: 'ms',
      label: 'latency',
    });
    expect(s.summary(s.feed(1000, ...latencies(1000, 1420)))).toBe('p99 latency 1.42 s > 1 s over 5m');
  });
});
