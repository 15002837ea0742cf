import { readdirSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { loadRules } from '../../src/rules/loader.js';
import { unfedRules } from '../../src/sources/coverage.js';

const files = readdirSync('rules').filter((f) => f.endsWith('.yaml'));

/**
 * One file with no vars: its own defaults must make it valid. api-health.yaml comes along, as it
 * defines the probe api-latency reads; only the file's own rules are returned.
 */
function loadAlone(file: string) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-helix-rule-'));
  try {
    for (const f of new Set([file, 'api-health.yaml'])) copyFileSync(join('rules', f), join(dir, f));
    const { rules } = loadRules(dir, {}, {});
    return { rules: file === 'api-health.yaml' ? rules : rules.filter((r) => r.id !== 'api-health') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the default HELIX rule set (rules/)', () => {
  it.each(files)('%s loads and validates on its own, with the defaults of its ${…}', (file) => {
    const { rules } = loadAlone(file);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.title).not.toBe('');
      // What it means and what to do first, from the seed's SOPs.
      expect(rule.description.length).toBeGreaterThan(60);
      expect(rule.description).toMatch(/First: /);
      expect(rule.category).not.toBe('other');
      expect(rule.labels).toMatchObject({ system: 'helix' });
    }
  });

  it('the test worlds run the shipped api-health rule (test/fixtures/rules-api-health is its copy)', () => {
    expect(loadRules('test/fixtures/rules-api-health', {}, {}).rules).toEqual(
      loadRules('rules', {}, {}).rules.filter((r) => r.id === 'api-health'),
    );
  });

  it("is fed by the sources of the repository's vigil.yaml (what `vigil rules validate` checks)", () => {
    const config = loadConfig({ file: 'vigil.yaml', env: {} });
    const set = loadRules(config.rules.dir, config.rules.vars, {});
    expect(unfedRules(set, config.sources)).toEqual([]);
  });

  it("has the seed's thresholds table: category, key metric, threshold, ack SLA", () => {
    const byId = new Map(loadRules('rules', {}, {}).rules.map((r) => [r.id, r]));
    const row = (id: string) => {
      const r = byId.get(id);
      if (!r) throw new Error(`no rule ${id}`);
      return { category: r.category, ackSla: r.ackSla, condition: r.condition };
    };
    expect(row('api-health')).toMatchObject({
      category: 'availability',
      ackSla: 300_000,
      condition: { kind: 'consecutive', count: 3 },
    });
    expect(row('api-latency')).toMatchObject({
      category: 'performance',
      ackSla: 900_000,
      condition: { kind: 'percentile', percentile: 99, op: '>', value: 1000, window: 300_000 },
    });
    expect(row('cpu-high')).toMatchObject({
      category: 'resource',
      ackSla: 1_800_000,
      condition: { kind: 'threshold', op: '>', value: 80, for: 300_000 },
    });
    expect(row('task-failure-rate')).toMatchObject({
      category: 'business',
      ackSla: 600_000,
      condition: { kind: 'ratio', op: '>', value: 0.05, window: 600_000, minSamples: 20 },
    });
    for (const id of ['schema-validation-log', 'schema-validation-tasks'])
      expect(row(id)).toMatchObject({ category: 'data', ackSla: 3_600_000, condition: { kind: 'match' } });
    expect(row('orchestrator-heartbeat')).toMatchObject({ condition: { kind: 'absence', after: 30_000 } });
  });
});
