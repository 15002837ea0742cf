import type { RuleSet } from './loader.js';

/**
 * `inhibitedBy` naming a rule this set does not have: not fatal (a rule file another agent loads, or
 * one removed on purpose), but that inhibition never happens, which nobody should learn from a page.
 */
export function inhibitionWarnings(rules: RuleSet): string[] {
  const ids = new Set(rules.rules.map((r) => r.id));
  return rules.rules.flatMap((rule) =>
    rule.inhibitedBy
      .filter((i) => !ids.has(i.rule))
      .map(
        (i) =>
          `rule "${rule.id}": inhibitedBy names "${i.rule}", which is not a loaded rule: it never holds anything (known: ${[...ids].join(', ')})`,
      ),
  );
}
