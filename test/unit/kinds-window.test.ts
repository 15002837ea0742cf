import { describe, expect, it } from 'vitest';
import {
  addTo,
  drainsAt,
  emptyWindow,
  fit,
  PERCENTILE_ERROR,
  percentileOf,
  totals,
  type WindowState,
} from '../../src/rules/kinds/window.js';

const one = { n: 1, f: 0, o: 0, s: 0 };
const W = 30_000; // slices of 1 s

function addValues(ws: WindowState, now: number, values: number[]) {
  for (const v of values) addTo(ws, now, now, W, { ...one, s: v, histValue: v });
}

/** The exact nearest-rank percentile. */
function exact(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9)) - 1] as number;
}

describe('window slices', () => {
  it('counts a late event still inside the window, even when the newest slice ends after now', () => {
    const ws = emptyWindow(W);
    expect(addTo(ws, 100_000, 100_000, W, one)).toBe('ok');
    expect(addTo(ws, 70_500, 100_000, W, one)).toBe('ok');
    expect(totals(ws, 100_000, W).n).toBe(2);
  });

  it('refuses an event whose slice has left the window as too late', () => {
    const ws = emptyWindow(W);
    expect(addTo(ws, 69_000, 100_000, W, one)).toBe('too-late');
    expect(addTo(ws, 69_999, 100_000, W, one)).toBe('too-late');
    expect(totals(ws, 100_000, W).n).toBe(0);
    expect(ws.b).toEqual([]);
  });

  it('counts an event dated ahead of the clock once its time comes, with a deadline then', () => {
    const ws = emptyWindow(W);
    addTo(ws, 90_000, 100_000, W, one);
    addTo(ws, 105_000, 100_000, W, one);
    expect(totals(ws, 100_000, W).n).toBe(1);
    expect(drainsAt(ws, 100_000, W)).toBe(121_000);
    expect(totals(ws, 105_000, W).n).toBe(2);
  });

  it('keeps the window ending now whole when an event dated ahead arrives', () => {
    const ws = emptyWindow(W);
    addTo(ws, 75_000, 100_000, W, one);
    addTo(ws, 140_000, 100_000, W, one);
    expect(totals(ws, 100_000, W).n).toBe(1);
  });

  it('drains at the slice edge: the oldest slice counts until it has wholly left the window', () => {
    const ws = emptyWindow(W);
    addTo(ws, 10_000, 10_000, W, one);
    expect(drainsAt(ws, 10_000, W)).toBe(41_000);
    expect(totals(ws, 40_999, W).n).toBe(1);
    expect(totals(ws, 41_000, W).n).toBe(0);
    expect(drainsAt(ws, 41_000, W)).toBeUndefined();
  });

  it('re-slices a window tuned longer: the same counts in about 30 slices, not 1800', () => {
    const ws = emptyWindow(60_000);
    for (let t = 0; t < 60_000; t += 500) addTo(ws, t, t, 60_000, one);
    expect(totals(ws, 59_999, 60_000).n).toBe(120);
    fit(ws, 3_600_000);
    expect(ws.w).toBe(120_000);
    expect(ws.b.length).toBe(1);
    expect(totals(ws, 60_000, 3_600_000).n).toBe(120);
    for (let t = 60_000; t < 3_600_000; t += 10_000) addTo(ws, t, t, 3_600_000, one);
    expect(ws.b.length).toBeLessThanOrEqual(31);
  });

  it('re-slices a window tuned shorter: slices no wider than the new window, old ones drain', () => {
    const ws = emptyWindow(3_600_000);
    for (let t = 0; t <= 3_600_000; t += 60_000) addTo(ws, t, t, 3_600_000, one);
    fit(ws, 60_000);
    expect(ws.w).toBe(2000);
    // Only the newest old slice (120 s wide, at 3 480 000) still overlaps the minute ending now.
    expect(totals(ws, 3_600_000, 60_000).n).toBe(1);
    addTo(ws, 3_600_000, 3_600_000, 60_000, one);
    expect(ws.b.every((b) => b.t > 3_600_000 - 60_000 - 120_000)).toBe(true);
  });
});

describe('percentiles (log histogram, nearest rank)', () => {
  it('takes the nearest rank without float drift: p7 of 1..100 is 7, not 8', () => {
    const ws = emptyWindow(W);
    addValues(
      ws,
      1000,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const t = totals(ws, 1000, W);
    expect(Math.abs(percentileOf(t, 7) / 7 - 1)).toBeLessThanOrEqual(PERCENTILE_ERROR);
  });

  it('is within 2 % of the exact nearest-rank value', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const values = Array.from({ length: 5000 }, () => Math.exp(random() * 10));
    const ws = emptyWindow(W);
    addValues(ws, 1000, values);
    const t = totals(ws, 1000, W);
    expect(PERCENTILE_ERROR).toBeLessThanOrEqual(0.02);
    for (const p of [1, 10, 25, 50, 75, 90, 95, 99, 99.9]) {
      const want = exact(values, p);
      expect(Math.abs(percentileOf(t, p) / want - 1), `p${p}`).toBeLessThanOrEqual(PERCENTILE_ERROR);
    }
  });

  it('gives the extremes exactly: p100 is the max, a window of equal values is that value', () => {
    const ws = emptyWindow(W);
    addValues(ws, 1000, [10, 20, 1000]);
    expect(percentileOf(totals(ws, 1000, W), 100)).toBe(1000);
    const same = emptyWindow(W);
    addValues(same, 1000, [1000, 1000, 1000, 1000]);
    expect(percentileOf(totals(same, 1000, W), 99)).toBe(1000);
    expect(percentileOf(totals(same, 1000, W), 50)).toBe(1000);
  });

  it('keeps zero and negative values in order', () => {
    const ws = emptyWindow(W);
    addValues(ws, 1000, [-50, -40, -30, 0, 0, 5, 6, 7, 8, 9]);
    const t = totals(ws, 1000, W);
    expect(percentileOf(t, 10)).toBe(-50);
    expect(Math.abs(percentileOf(t, 20) / -40 - 1)).toBeLessThanOrEqual(PERCENTILE_ERROR);
    expect(percentileOf(t, 40)).toBe(0);
    expect(Math.abs(percentileOf(t, 60) / 5 - 1)).toBeLessThanOrEqual(PERCENTILE_ERROR);
  });

  it('survives a JSON round trip (Redis keeps the state as JSON)', () => {
    const ws = emptyWindow(W);
    addValues(ws, 1000, [-1, 0, 0.001, 1e6]);
    const back = JSON.parse(JSON.stringify(ws)) as WindowState;
    expect(back).toEqual(ws);
    expect(percentileOf(totals(back, 1000, W), 100)).toBe(1e6);
    expect(percentileOf(totals(back, 1000, W), 25)).toBe(-1);
  });
});
