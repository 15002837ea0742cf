import type { Condition, Rule } from './schema.js';

/** What one tunable number may be: a bad row must not make a rule fire on every observation. */
export interface ThresholdValidator {
  ok: (value: number) => boolean;
  expect: string;
}

const wholeAtLeast1: ThresholdValidator = {
  ok: (v) => Number.isInteger(v) && v >= 1,
  expect: 'a whole number ≥ 1',
};

/**
 * The keys each condition kind lets the thresholds table tune, named like the condition's fields.
 * A new kind adds its entry here; the store, the CLI and the checks of plain-SQL rows follow.
 */
export const thresholdKeys = {
  consecutive: { count: wholeAtLeast1, resolveAfter: wholeAtLeast1 },
} satisfies Record<Condition['kind'], Record<string, ThresholdValidator>>;

type Keys = typeof thresholdKeys;
/** Every tunable key of every kind. */
export type ThresholdKey = { [K in keyof Keys]: keyof Keys[K] & string }[keyof Keys];

export function keysOf(rule: Rule): Readonly<Record<string, ThresholdValidator>> {
  return thresholdKeys[rule.condition.kind];
}

/** Why a row (rule id, key, value) cannot apply, or undefined when it can. */
export function problemWith(
  rules: ReadonlyMap<string, Rule>,
  ruleId: string,
  key: string,
  value: number,
): string | undefined {
  const rule = rules.get(ruleId);
  if (!rule) return `unknown rule "${ruleId}"`;
  const keys = keysOf(rule);
  const v = keys[key];
  if (!v)
    return `unknown threshold key "${key}" for a ${rule.condition.kind} rule (known: ${Object.keys(keys).join(', ')})`;
  return v.ok(value) ? undefined : `${key} must be ${v.expect}, got ${value}`;
}

/** The rule file's number for a key (the condition's field of that name). */
export function fileDefault(rule: Rule, key: string): number | undefined {
  const value: unknown = (rule.condition as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : undefined;
}
