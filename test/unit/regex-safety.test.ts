import { describe, expect, it } from 'vitest';
import { backtrackingRisk } from '../../src/config/regex-safety.js';

describe('a regex that could stall a log tail on a crafted line', () => {
  it.each(['(a+)+$', '(\\w+\\s?)*$', '(?:x*y?)+z', '((ab)*c)+', '(a|b+){2,}'])('refuses %s', (re) => {
    expect(backtrackingRisk(re)).toMatch(
      /repeated group that itself repeats .* rewrite it without the nesting/,
    );
  });

  it.each([
    '^Traceback \\(most recent call last\\):',
    'Schema validation failed',
    '^(?<time>\\d{4}-\\d{2}-\\d{2} [\\d:,]+) (?<level>[A-Z]+) (?<logger>[\\w.-]+): (?<message>.*)$',
    '(ab)+',
    '[(a+)+]',
    '\\(a+\\)+',
    '(a{3})+',
  ])('accepts %s', (re) => {
    expect(backtrackingRisk(re)).toBeUndefined();
  });
});
