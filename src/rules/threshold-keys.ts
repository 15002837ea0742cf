import { kindOf } from './kinds/registry.js';
import type { Rule } from './schema.js';

/** What one tunable number may be: a bad row must not make a rule fire on every observation. */
export interface ThresholdValidator {
  ok: (value: number) => boolean;
  expect: string;
  /** Reads what a person typed ("5m", "5%"); a plain number otherwise. */
  parse?: (text: string) => number;
  /** Shows a stored number the way the rule file writes it ("5m"). */
  show?: (value: number) => string;
}

/** Every tunable key is a field of some condition kind (see kinds/registry.ts). */
export type ThresholdKey = string;

/** The keys a rule's condition kind lets the thresholds table tune, named like the condition's fields. */
export function keysOf(rule: Rule): Readonly<Record<string, ThresholdValidator>> {
  return kindOf(rule.condition).keys;
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
