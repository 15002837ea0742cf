import { z } from 'zod';
import { duration, formatDuration } from '../../config/duration.js';
import { displayFields, durationKey } from './common.js';
import type { ConditionKind } from './kind.js';

/**
 * No matching event for a while (a heartbeat, a deadman switch). Per series: with `groupBy: [host]`,
 * one host of many that goes silent fires on its own. A rule without groupBy is watched from the
 * agent's start, so a heartbeat that never comes fires too.
 */
export const absenceSchema = z
  .object({
    kind: z.literal('absence'),
    after: duration.refine((ms) => ms >= 1000, 'at least 1s'),
    ...displayFields,
  })
  .strict();

export type AbsenceCondition = z.output<typeof absenceSchema>;

interface LastSeen {
  at: number;
}

export const absence: ConditionKind<AbsenceCondition, LastSeen> = {
  kind: 'absence',
  schema: absenceSchema,
  keys: { after: durationKey(1000) },
  store: 'window',
  init: (_c, now) => ({ at: now }),
  add(last, sample) {
    last.at = Math.max(last.at, sample.atMs);
    return 'ok';
  },
  evaluate(last, c, now) {
    const silent = Math.max(0, now - last.at);
    return {
      breach: silent > c.after,
      value: silent / 1000,
      changesAt: last.at + c.after + 1,
      since: last.at,
    };
  },
  summary: (c, { value }, subject) =>
    `no ${c.label ?? subject} for ${silence(value)} (expected within ${formatDuration(c.after)})`,
  timing: () => ({ for: 0, keepFiringFor: 0 }),
};

/** Seconds of silence as people say them: "42s", "5m", or "5.1s" just past a limit of 5s. */
function silence(seconds: number): string {
  const tenths = Math.ceil(seconds * 10);
  return tenths % 10 === 0 ? formatDuration(tenths * 100) : `${(tenths / 10).toFixed(1)}s`;
}
