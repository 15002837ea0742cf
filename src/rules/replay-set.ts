import { VigilError } from '../errors.js';
import { conditionOf } from './conditions.js';
import type { Rule } from './schema.js';
import { keysOf, problemWith } from './threshold-keys.js';

/** `--set`/`--compare` values or a rule test's `set:` that cannot apply: exit 2 with every reason. */
export class ReplayRefusal extends VigilError {
  constructor(readonly problems: readonly string[]) {
    super('E_REPLAY_REFUSED', problems.join('; '));
  }
}

/** Reads `key=value` the way `vigil thresholds set` does: the key's own parser ("5m", "5%"), else a number. */
export function parseSetting(rule: Rule, text: string): { key: string; value: number } | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return `"${text}": expected key=value (e.g. count=5)`;
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  const validator = keysOf(rule)[key];
  const value = validator?.parse ? validator.parse(raw) : raw === '' ? Number.NaN : Number(raw);
  const problem = problemWith(new Map([[rule.id, rule]]), rule.id, key, value);
  if (problem)
    return validator && !Number.isFinite(value)
      ? `${key} must be ${validator.expect}, got "${raw}"`
      : problem;
  return { key, value };
}

/**
 * The rule's condition with overrides in place of the file's numbers, merged like tuned rows of the
 * thresholds table (`conditionOf`), each checked by the kind's validator for that key.
 */
export function overridden(rule: Rule, settings: Iterable<string>): { kind: string } {
  const problems: string[] = [];
  const tuned = new Map<string, number>();
  for (const s of settings) {
    const parsed = parseSetting(rule, s);
    if (typeof parsed === 'string') problems.push(parsed);
    else tuned.set(`${rule.id}/${parsed.key}`, parsed.value);
  }
  if (problems.length) throw new ReplayRefusal(problems);
  return conditionOf(tuned, rule);
}
