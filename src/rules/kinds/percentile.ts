import { z } from 'zod';
import { formatDuration } from '../../config/duration.js';
import {
  anyNumber,
  displayFields,
  durationKey,
  percentKey,
  sampleCount,
  timingFields,
  timingKeys,
  wholeAtLeast1,
  windowField,
} from './common.js';
import { comparator, compare, formatNumber, withUnit } from './compare.js';
import type { ConditionKind } from './kind.js';
import {
  addTo,
  arrivesAt,
  drainsAt,
  earliest,
  emptyWindow,
  percentileOf,
  seen,
  totals,
  type WindowState,
} from './window.js';

/**
 * pN of the events' value over a window (`percentile: 99`, latency in the probe's ms). Kept as a
 * log-bucketed histogram per slice: memory is bounded and the percentile is within 2 % of exact
 * (nearest rank; negative values and zero are kept too).
 */
export const percentileSchema = z
  .object({
    kind: z.literal('percentile'),
    percentile: z.number().gt(0).max(100),
    op: comparator.default('>'),
    value: z.number().finite(),
    window: windowField,
    minSamples: sampleCount.default(1),
    ...timingFields,
    ...displayFields,
  })
  .strict();

export type PercentileCondition = z.output<typeof percentileSchema>;

export const percentile: ConditionKind<PercentileCondition, WindowState> = {
  kind: 'percentile',
  schema: percentileSchema,
  keys: {
    value: anyNumber,
    percentile: percentKey,
    window: durationKey(1000),
    minSamples: wholeAtLeast1,
    ...timingKeys,
  },
  store: 'window',
  init: (c) => emptyWindow(c.window),
  add(ws, sample, c, now) {
    if (sample.value === undefined || seen(ws, sample.id)) return 'ok';
    return addTo(ws, sample.atMs, now, c.window, {
      n: 1,
      f: 0,
      o: 0,
      s: sample.value,
      histValue: sample.value,
    });
  },
  evaluate(ws, c, now) {
    const t = totals(ws, now, c.window);
    const changesAt = earliest(drainsAt(ws, now, c.window), arrivesAt(ws, now));
    if (t.n === 0) return { breach: false, value: 0, changesAt };
    const value = percentileOf(t, c.percentile);
    // Too few samples judge nothing: a firing alert neither resolves nor fires on them (see ratio).
    if (t.n < c.minSamples) return { breach: undefined, value, changesAt };
    return { breach: compare(value, c.op, c.value), value, changesAt };
  },
  summary: (c, { value }, subject) =>
    `p${formatNumber(c.percentile)} ${c.label ?? subject} ${withUnit(value, c.unit)} ${c.op} ${withUnit(c.value, c.unit)} over ${formatDuration(c.window)}`,
  timing: (c) => ({ for: c.for, keepFiringFor: c.keepFiringFor }),
};
