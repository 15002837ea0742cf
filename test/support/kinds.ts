import type { Sample } from '../../src/rules/kinds/kind.js';
import { conditionSchema, kindOf } from '../../src/rules/kinds/registry.js';
import { advance, newSeries, type Judged, type WindowSeries } from '../../src/rules/window-series.js';

/**
 * One series of a condition on a virtual clock: `feed` takes samples in at a moment and judges it,
 * with a JSON round trip in between as Redis does, so a state that does not survive JSON shows.
 */
export interface VirtualSeries {
  condition: { kind: string };
  series: WindowSeries;
  feed(nowMs: number, ...samples: Sample[]): Judged;
  /** Judges at `nowMs` with no event, as the tick does */
  tick(nowMs: number): Judged;
  summary(j: Judged, subject?: string): string;
}

export function virtualSeries(input: Record<string, unknown>, startMs = 0): VirtualSeries {
  const condition = conditionSchema.parse(input);
  const kind = kindOf(condition);
  const v: VirtualSeries = {
    condition,
    series: newSeries(kind, condition, { rule: 'r', fingerprint: 'r{}', labels: {} }, startMs),
    feed(nowMs, ...samples) {
      v.series = JSON.parse(JSON.stringify(v.series)) as WindowSeries;
      return advance(v.series, kind, condition, samples, nowMs);
    },
    tick: (nowMs) => v.feed(nowMs),
    summary: (j, subject = 'api') =>
      kind.summary(condition, { ...j.verdict, value: v.series.life.value }, subject),
  };
  return v;
}

let nextId = 0;

/** A sample at `atMs` (ids unique unless given). */
export function sample(atMs: number, fields: Partial<Sample> = {}): Sample {
  return { id: `e${nextId++}`, atMs, ok: undefined, value: undefined, ...fields };
}

export const fail = (atMs: number, fields: Partial<Sample> = {}) => sample(atMs, { ok: false, ...fields });
export const pass = (atMs: number, fields: Partial<Sample> = {}) => sample(atMs, { ok: true, ...fields });
export const value = (atMs: number, v: number, fields: Partial<Sample> = {}) =>
  sample(atMs, { value: v, ...fields });

export const comparatorCases = [
  ['>', false],
  ['>=', true],
  ['<', false],
  ['<=', true],
  ['==', true],
  ['!=', false],
] as const;
