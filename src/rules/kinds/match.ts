import { z } from 'zod';
import { duration, formatDuration } from '../../config/duration.js';
import { displayFields, durationKey } from './common.js';
import { NEVER, type ConditionKind } from './kind.js';

/**
 * Any matching event fires (a schema validation failure, a traceback). Matches within `cooldown` of
 * the last one belong to the same incident; it resolves after a `cooldown` with none. Recovery
 * signals (`ok: true`) are not matches. A match that arrives late (a log tail catching up) still
 * fires: its cooldown runs from when it was learned of, not only from when it happened.
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
  /** First match of the current run (event time), matches in the run */
  since: number;
  n: number;
  /** Latest moment a match happened or was learned of: the cooldown runs from here */
  u: number;
  ids: string[];
}

export const match: ConditionKind<MatchCondition, Matches> = {
  kind: 'match',
  schema: matchSchema,
  keys: { cooldown: durationKey(1000) },
  store: 'window',
  init: () => ({ since: NEVER, n: 0, u: NEVER, ids: [] }),
  add(m, sample, c, now) {
    if (sample.ok === true || m.ids.includes(sample.id)) return 'ok';
    m.ids = [...m.ids.slice(-15), sample.id];
    const learned = Math.max(sample.atMs, now);
    // After the last run's cooldown ran out, a match starts a new run (a new incident).
    if (learned >= m.u + c.cooldown) Object.assign(m, { since: sample.atMs, n: 0 });
    m.n++;
    m.since = Math.min(m.since, sample.atMs);
    m.u = Math.max(m.u, learned);
    return 'ok';
  },
  evaluate(m, c, now) {
    const until = m.u + c.cooldown;
    return {
      breach: now < until,
      value: m.n,
      changesAt: until,
      since: m.since,
    };
  },
  summary: (c, { value }, subject) =>
    `${c.label ?? subject}${value > 1 ? ` (${value} times, each within ${formatDuration(c.cooldown)} of the last)` : ''}`,
  timing: () => ({ for: 0, keepFiringFor: 0 }),
};
