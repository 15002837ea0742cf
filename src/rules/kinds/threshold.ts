import { z } from 'zod';
import { duration, formatDuration } from '../../config/duration.js';
import { anyNumber, displayFields, durationKey, timingFields, timingKeys } from './common.js';
import { comparator, compare, withUnit } from './compare.js';
import { NEVER, type ConditionKind } from './kind.js';

/** The latest value beyond a limit, for a while: `CPU > 80 for 5m`. */
export const thresholdSchema = z
  .object({
    kind: z.literal('threshold'),
    op: comparator.default('>'),
    value: z.number().finite(),
    /** A value older than this says nothing any more: a firing alert resolves rather than hang on. */
    staleAfter: duration.default(600_000),
    ...timingFields,
    ...displayFields,
  })
  .strict();

export type ThresholdCondition = z.output<typeof thresholdSchema>;

interface Latest {
  at: number;
  v: number | null;
}

export const threshold: ConditionKind<ThresholdCondition, Latest> = {
  kind: 'threshold',
  schema: thresholdSchema,
  keys: { value: anyNumber, staleAfter: durationKey(1000), ...timingKeys },
  store: 'window',
  init: () => ({ at: NEVER, v: null }),
  add(latest, sample) {
    // An older value than the one held says nothing about now; ignored, not an error.
    // A failed observation's value (a probe's elapsed time on error) is not a reading of the metric.
    if (sample.value === undefined || sample.ok === false || sample.atMs < latest.at) return 'ok';
    latest.at = sample.atMs;
    latest.v = sample.value;
    return 'ok';
  },
  evaluate(latest, c, now) {
    if (latest.v === null) return { breach: undefined, value: 0 };
    const staleAt = latest.at + c.staleAfter;
    if (now >= staleAt) return { breach: false, value: latest.v };
    const breach = compare(latest.v, c.op, c.value);
    // Going stale only ends a breach; a value within the limit needs no look when it ages.
    return { breach, value: latest.v, changesAt: breach ? staleAt : undefined };
  },
  summary: (c, { value }, subject) =>
    `${c.label ?? subject} ${withUnit(value, c.unit)} ${c.op} ${withUnit(c.value, c.unit)}` +
    (c.for > 0 ? ` for ${formatDuration(c.for)}` : ''),
  timing: (c) => ({ for: c.for, keepFiringFor: c.keepFiringFor }),
};
