import { z } from 'zod';
import { duration, formatDuration } from '../../config/duration.js';
import { displayFields, durationKey } from './common.js';
import { NEVER, type ConditionKind } from './kind.js';

/**
 * Any matching event fires (a schema validation failure, a traceback). Matches within `cooldown` of
 * the last one belong to the same incident; it resolves after a `cooldown` with none. Recovery
 * signals (`ok: true`) are not matches.
 */
export const matchSchema = z
  .object({
    kind: z.literal('match'),
    cooldown: duration.refine((ms) => ms >= 1000, 'at least 1s').default(300_000),
    ...displayFields,
  })
  .strict();

export type MatchCondition = z.output<typeof matchSchema>;

interface Matches {
  /** Last match, first match of the current run, matches in the run */
  at: number;
  since: number;
  n: number;
  ids: string[];
}

export const match: ConditionKind<MatchCondition, Matches> = {
  kind: 'match',
  schema: matchSchema,
  keys: { cooldown: durationKey(1000) },
  store: 'window',
  init: () => ({ at: NEVER, since: NEVER, n: 0, ids: [] }),
  add(m, sample, c) {
    if (sample.ok === true || m.ids.includes(sample.id)) return 'ok';
    m.ids = [...m.ids.slice(-15), sample.id];
    if (sample.atMs >= m.at + c.cooldown) Object.assign(m, { since: sample.atMs, n: 0 });
    m.n++;
    m.at = Math.max(m.at, sample.atMs);
    m.since = Math.min(m.since, sample.atMs);
    return 'ok';
  },
  evaluate(m, c, now) {
    const until = m.at + c.cooldown;
    return {
      breach: now < until,
      value: m.n,
      changesAt: Number.isFinite(until) ? until : undefined,
      since: m.since,
    };
  },
  summary: (c, { value }, subject) =>
    `${c.label ?? subject}${value > 1 ? ` (${value} times, each within ${formatDuration(c.cooldown)} of the last)` : ''}`,
  timing: () => ({ for: 0, keepFiringFor: 0 }),
};
