import { describe, expect, it } from 'vitest';
import { loadRules } from '../../src/rules/loader.js';
import { concernsSchema } from '../../src/rules/threshold-listener.js';
import { problemWith } from '../../src/rules/threshold-keys.js';

const rules = new Map(loadRules('rules', {}).rules.map((r) => [r.id, r]));

describe('threshold rows', () => {
  it('accepts the keys of the rule’s condition kind with a valid value', () => {
    expect(problemWith(rules, 'api-health', 'count', 5)).toBeUndefined();
    expect(problemWith(rules, 'api-health', 'resolveAfter', 1)).toBeUndefined();
  });

  it.each([
    ['nope', 'count', 3, 'unknown rule "nope"'],
    [
      'api-health',
      'window',
      3,
      'unknown threshold key "window" for a consecutive rule (known: count, resolveAfter)',
    ],
    ['api-health', 'count', Number.NaN, 'count must be a whole number ≥ 1, got NaN'],
    ['api-health', 'count', -2, 'count must be a whole number ≥ 1, got -2'],
    ['api-health', 'resolveAfter', 1.5, 'resolveAfter must be a whole number ≥ 1, got 1.5'],
  ])('refuses %s %s=%s: %s', (rule, key, value, problem) => {
    expect(problemWith(rules, rule, key, value)).toBe(problem);
  });

  it('a notification concerns an agent only when it names the agent’s schema', () => {
    expect(concernsSchema('vigil', 'vigil')).toBe(true);
    expect(concernsSchema('vigil:api-health', 'vigil')).toBe(true);
    expect(concernsSchema('vigil_demo:api-health', 'vigil')).toBe(false);
    expect(concernsSchema('api-health', 'vigil')).toBe(false);
  });
});
