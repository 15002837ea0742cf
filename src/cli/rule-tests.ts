import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError, errorMessage } from '../errors.js';
import { loadRuleTest, runRuleTest, type RuleTestOutcome } from '../rules/rule-tests.js';
import type { Rule } from '../rules/schema.js';
import { EXIT_FAILURE } from './fail.js';

/**
 * `vigil rules test --all`: every `<rules dir>/tests/*.yaml`, pass or fail with the first
 * difference. A test file that cannot be read fails too (with its file:line problems).
 * Returns the exit code: 1 if any failed.
 */
export function runRuleTests(dir: string, rules: readonly Rule[], json: boolean): number {
  const folder = join(dir, 'tests');
  const files = existsSync(folder)
    ? readdirSync(folder)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(folder, f))
    : [];
  const outcomes: RuleTestOutcome[] = files.map((file) => {
    try {
      return runRuleTest(file, loadRuleTest(file), rules);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.join('; ') : errorMessage(err);
      return { file, rule: '?', failure: problems, transitions: [] };
    }
  });
  const failed = outcomes.filter((o) => o.failure !== undefined);
  if (json) console.log(JSON.stringify(outcomes, null, 2));
  else {
    for (const o of outcomes)
      console.log(
        `${o.failure ? '✗' : '✓'} ${relative(process.cwd(), o.file)} (${o.rule})${o.failure ? `: ${o.failure}` : ''}`,
      );
    console.log(
      files.length === 0
        ? `no rule tests in ${folder}`
        : `${outcomes.length - failed.length} passed, ${failed.length} failed`,
    );
  }
  return failed.length ? EXIT_FAILURE : 0;
}
