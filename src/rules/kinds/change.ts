import { z } from 'zod';
import { duration } from '../../config/duration.js';
import type { VigilEvent } from '../../contracts/event.js';
import { displayFields, durationKey } from './common.js';
import { NEVER, type ConditionKind } from './kind.js';

/**
 * A field changes value (a version, a leader, a config hash): `field: value`, `labels.<name>` or
 * `data.<name>`. The first value seen is not a change. Fires on a change; resolves after `cooldown`
 * (counted from when the change was learned of, so one that arrives late still fires).
 */
export const changeSchema = z
  .object({
    kind: z.literal('change'),
    field: z.string().regex(/^(value|labels\.[\w.-]+|data\.[\w.-]+)$/, 'value, labels.<name> or data.<name>'),
    cooldown: duration.refine((ms) => ms >= 1000, 'at least 1s').default(300_000),
    ...displayFields,
  })
  .strict();

export type ChangeCondition = z.output<typeof changeSchema>;

interface Changes {
  /** The latest value and its time; the last change (event time, and when learned of), from what */
  v: string | null;
  at: number;
  ch: number;
  u: number;
  from: string | null;
}

function pick(c: ChangeCondition, e: VigilEvent): string | undefined {
  if (c.field === 'value') return e.value === undefined ? undefined : String(e.value);
  const [where, ...rest] = c.field.split('.');
  const name = rest.join('.');
  const v = where === 'labels' ? e.labels[name] : e.data?.[name];
  return v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
}

export const change: ConditionKind<ChangeCondition, Changes> = {
  kind: 'change',
  schema: changeSchema,
  keys: { cooldown: durationKey(1000) },
  store: 'window',
  pick,
  init: () => ({ v: null, at: NEVER, ch: NEVER, u: NEVER, from: null }),
  add(s, sample, _c, now) {
    // Order decides what changed into what: a value older than the latest is history, not news.
    if (sample.field === undefined || sample.atMs < s.at) return 'ok';
    if (s.v !== null && sample.field !== s.v)
      Object.assign(s, { ch: sample.atMs, u: Math.max(sample.atMs, now), from: s.v });
    s.v = sample.field;
    s.at = sample.atMs;
    return 'ok';
  },
  evaluate(s, c, now) {
    const until = s.u + c.cooldown;
    const note = s.from === null ? undefined : `from ${JSON.stringify(s.from)} to ${JSON.stringify(s.v)}`;
    return {
      breach: now < until,
      value: 0,
      changesAt: until,
      since: s.ch,
      note,
    };
  },
  summary: (c, { note }, subject) => `${c.label ?? subject} ${c.field} changed${note ? ` ${note}` : ''}`,
  timing: () => ({ for: 0, keepFiringFor: 0 }),
};
