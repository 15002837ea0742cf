import { z } from 'zod';
import { formatDuration } from '../../config/duration.js';
import {
  displayFields,
  durationKey,
  fraction,
  fractionKey,
  sampleCount,
  timingFields,
  timingKeys,
  wholeAtLeast1,
  windowField,
} from './common.js';
import { comparator, compare, formatNumber } from './compare.js';
import type { ConditionKind } from './kind.js';
import {
  addTo,
  arrivesAt,
  drainsAt,
  earliest,
  emptyWindow,
  seen,
  totals,
  type WindowState,
} from './window.js';

/**
 * Failed / total over a window (events with `ok`; others are not outcomes). Fewer than `minSamples`
 * outcomes in the window judge nothing: 1 failure of 2 tasks is not a 50 % failure rate worth a page,
 * and a firing alert does not resolve (then fire again) as traffic dips under the minimum and back;
 * it resolves once the ratio is back within its limit, or the window has drained empty.
 */
export const ratioSchema = z
  .object({
    kind: z.literal('ratio'),
    op: comparator.default('>'),
    value: fraction,
    window: windowField,
    minSamples: sampleCount.default(1),
    ...timingFields,
    ...displayFields,
  })
  .strict();

export type RatioCondition = z.output<typeof ratioSchema>;

const percent = (v: number) => `${formatNumber(v * 100)} %`;

export const ratio: ConditionKind<RatioCondition, WindowState> = {
  kind: 'ratio',
  schema: ratioSchema,
  keys: { value: fractionKey, window: durationKey(1000), minSamples: wholeAtLeast1, ...timingKeys },
  store: 'window',
  init: (c) => emptyWindow(c.window),
  add(ws, sample, c, now) {
    if (sample.ok === undefined || seen(ws, sample.id)) return 'ok';
    return addTo(ws, sample.atMs, now, c.window, { n: 1, f: sample.ok ? 0 : 1, o: 1, s: 0 });
  },
  evaluate(ws, c, now) {
    const t = totals(ws, now, c.window);
    const changesAt = earliest(drainsAt(ws, now, c.window), arrivesAt(ws, now));
    if (t.o === 0) return { breach: false, value: 0, changesAt };
    const value = t.f / t.o;
    if (t.o < c.minSamples) return { breach: undefined, value, changesAt };
    return { breach: compare(value, c.op, c.value), value, changesAt };
  },
  summary: (c, { value }, subject) =>
    `${c.label ?? `${subject} failure rate`} ${percent(value)} ${c.op} ${percent(c.value)} over ${formatDuration(c.window)}`,
  timing: (c) => ({ for: c.for, keepFiringFor: c.keepFiringFor }),
};
