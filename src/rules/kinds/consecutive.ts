import { z } from 'zod';
import { integer } from '../../config/fields.js';
import { wholeAtLeast1 } from './common.js';
import { NEVER, type ConditionKind } from './kind.js';

const count = integer(1, 100_000);

/** N failing observations (`ok: false`) in a row fire; M passing ones in a row resolve. */
export const consecutiveSchema = z
  .object({
    kind: z.literal('consecutive'),
    count,
    resolveAfter: count.default(1),
  })
  .strict();

export type ConsecutiveCondition = z.output<typeof consecutiveSchema>;

/** The current run: its kind (failing or passing), length and start. */
interface Run {
  ok: boolean | undefined;
  n: number;
  since: number;
  at: number;
}

/**
 * In time order this is all a run needs. In production the series Lua (`series.lua`) keeps the same
 * rule over observations that reach different agents out of order; this file is its in-order twin,
 * used by `vigil rules test` and checked against the Lua by the tests.
 */
export const consecutive: ConditionKind<ConsecutiveCondition, Run> = {
  kind: 'consecutive',
  schema: consecutiveSchema,
  keys: { count: wholeAtLeast1, resolveAfter: wholeAtLeast1 },
  store: 'runs',
  init: () => ({ ok: undefined, n: 0, since: 0, at: NEVER }),
  add(run, sample) {
    if (sample.ok === undefined) return 'ok';
    if (sample.atMs < run.at) return 'too-late';
    if (run.ok === sample.ok) run.n++;
    else Object.assign(run, { ok: sample.ok, n: 1, since: sample.atMs });
    run.at = sample.atMs;
    return 'ok';
  },
  evaluate(run, c) {
    if (run.ok === false)
      return { breach: run.n >= c.count ? true : undefined, value: run.n, since: run.since };
    if (run.ok === true) return { breach: run.n >= c.resolveAfter ? false : undefined, value: 0 };
    return { breach: undefined, value: 0 };
  },
  summary: (_c, { value }, subject) => `${value} consecutive failures of ${subject}`,
  timing: () => ({ for: 0, keepFiringFor: 0 }),
};
