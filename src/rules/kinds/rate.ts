import { z } from 'zod';
import { formatDuration } from '../../config/duration.js';
import { anyNumber, displayFields, durationKey, timingFields, timingKeys, windowField } from './common.js';
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
 * How many matching events in a sliding window (`counts: failures`, the default, leaves out recovery
 * signals; `all` counts every event), or how much a counter carried in the events' value grew
 * (`counts: increase`; a counter that goes down was reset and counts from zero).
 */
export const rateSchema = z
  .object({
    kind: z.literal('rate'),
    op: comparator.default('>='),
    count: z.number().finite().min(0),
    window: windowField,
    counts: z.enum(['failures', 'all', 'increase']).default('failures'),
    ...timingFields,
    ...displayFields,
  })
  .strict();

export type RateCondition = z.output<typeof rateSchema>;

type State = WindowState & { c?: [number, number] };

export const rate: ConditionKind<RateCondition, State> = {
  kind: 'rate',
  schema: rateSchema,
  keys: { count: anyNumber, window: durationKey(1000), ...timingKeys },
  store: 'window',
  init: (c) => emptyWindow(c.window),
  add(ws, sample, c, now) {
    // Recovery signals are not counted, so they need no place among the ids remembered.
    if (c.counts === 'failures' && sample.ok === true) return 'ok';
    if (seen(ws, sample.id)) return 'ok';
    if (c.counts !== 'increase') return addTo(ws, sample.atMs, now, c.window, { n: 1, f: 0, o: 0, s: 0 });
    if (sample.value === undefined) return 'ok';
    const last = ws.c;
    // A counter's growth needs the reading before it: an older reading than the last is ignored.
    if (last && sample.atMs < last[0]) return 'ok';
    ws.c = [sample.atMs, sample.value];
    if (!last) return 'ok';
    const grew = sample.value >= last[1] ? sample.value - last[1] : sample.value;
    return addTo(ws, sample.atMs, now, c.window, { n: grew, f: 0, o: 0, s: 0 });
  },
  evaluate(ws, c, now) {
    const t = totals(ws, now, c.window);
    const breach = compare(t.n, c.op, c.count);
    // Draining only lowers the count: it can end a breach of > or >=, or begin one of < or <=; a
    // deadline that cannot change the verdict would only cost the tick work.
    const drains = c.op === '>' || c.op === '>=' ? breach : c.op === '<' || c.op === '<=' ? !breach : true;
    return {
      breach,
      value: t.n,
      changesAt: earliest(drains ? drainsAt(ws, now, c.window) : undefined, arrivesAt(ws, now)),
    };
  },
  summary: (c, { value }, subject) => {
    const limit = `in ${formatDuration(c.window)} (${c.op} ${formatNumber(c.count)})`;
    if (c.counts === 'increase')
      return `${c.label ?? subject} grew by ${formatNumber(value)}${c.unit ? ` ${c.unit}` : ''} ${limit}`;
    return `${formatNumber(value)} ${c.label ?? `${subject} events`} ${limit}`;
  },
  timing: (c) => ({ for: c.for, keepFiringFor: c.keepFiringFor }),
};
