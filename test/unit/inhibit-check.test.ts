import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { inhibitionWarnings } from '../../src/rules/inhibit-check.js';
import { loadRules } from '../../src/rules/loader.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-inhibit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const rule = (id: string, inhibitedBy: string) => `id: ${id}
title: ${id}
severity: high
ackSla: 10m
match: { source: manual, name: ${id} }
condition: { kind: match }
inhibitedBy: ${inhibitedBy}
`;

describe('inhibitedBy at rule load', () => {
  it('takes the string shorthand and the long form, and warns about a rule not loaded', () => {
    writeFileSync(join(dir, 'db.yaml'), rule('database-unreachable', '[]'));
    writeFileSync(
      join(dir, 'tasks.yaml'),
      rule('task-failures', '[database-unreachable, { rule: databse-down, equal: [host] }]'),
    );
    const set = loadRules(dir, {}, {});
    expect(set.rules.find((r) => r.id === 'task-failures')?.inhibitedBy).toEqual([
      { rule: 'database-unreachable', equal: [] },
      { rule: 'databse-down', equal: ['host'] },
    ]);
    expect(inhibitionWarnings(set)).toEqual([
      'rule "task-failures": inhibitedBy names "databse-down", which is not a loaded rule: it never holds anything (known: database-unreachable, task-failures)',
    ]);
  });

  it('refuses a rule that inhibits itself, naming the file and line', () => {
    writeFileSync(join(dir, 'tasks.yaml'), rule('task-failures', '[other, task-failures]'));
    let problems: readonly string[] = [];
    try {
      loadRules(dir, {}, {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/tasks\.yaml:\d+.*inhibitedBy: rule "task-failures" cannot inhibit itself/);
  });
});
