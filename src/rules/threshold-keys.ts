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

/**
 * A row's key: a condition field, for one series when followed by that series' labels as its
 * fingerprint writes them — `count{host="db-2"}` tunes only the series of host db-2.
 */
export function splitKey(key: string): { base: string; series: string } {
  const i = key.indexOf('{');
  return i < 0 ? { base: key, series: '' } : { base: key.slice(0, i), series: key.slice(i) };
}

/** The series part of a key for `label=value,…` as a person writes it, in the rule's groupBy order. */
export function seriesSelector(rule: Rule, text: string): { series?: string; problem?: string } {
  if (rule.groupBy.length === 0)
    return { problem: `${rule.id} has no groupBy: it has one series, so no per-series rows` };
  const given = new Map<string, string>();
  for (const part of text.split(',')) {
    const m = /^\s*([^=\s]+)\s*=(.*)$/.exec(part);
    if (!m) return { problem: `series "${text}" is not label=value,…` };
    given.set(m[1] as string, (m[2] as string).trim());
  }
  const wrong = [...given.keys()].filter((l) => !rule.groupBy.includes(l));
  const missing = rule.groupBy.filter((l) => !given.has(l));
  if (wrong.length || missing.length)
    return {
      problem: `a series of ${rule.id} is named by exactly its groupBy labels: ${rule.groupBy.join(', ')}`,
    };
  return { series: `{${rule.groupBy.map((l) => `${l}=${JSON.stringify(given.get(l))}`).join(',')}}` };
}

/** Whether a key's series part names the rule's groupBy labels, in order, each once. */
function seriesProblem(rule: Rule, series: string): string | undefined {
  if (!series) return undefined;
  if (rule.groupBy.length === 0) return `${rule.id} has no groupBy: it has one series, so no per-series rows`;
  const names = [...series.matchAll(/(?:^\{|,)([^=,{}]+)=/g)].map((m) => m[1]);
  return names.join(',') === rule.groupBy.join(',')
    ? undefined
    : `series ${series} does not name exactly the groupBy labels (${rule.groupBy.join(', ')})`;
}

/** Why a row (rule id, key, value) cannot apply, or undefined when it can. */
export function problemWith(
  rules: ReadonlyMap<string, Rule>,
  ruleId: string,
  fullKey: string,
  value: number,
): string | undefined {
  const rule = rules.get(ruleId);
  if (!rule) return `unknown rule "${ruleId}"`;
  const { base: key, series } = splitKey(fullKey);
  const wrongSeries = seriesProblem(rule, series);
  if (wrongSeries) return wrongSeries;
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
