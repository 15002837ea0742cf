import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Health } from '../../src/health.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import type { RuleSet } from '../../src/rules/loader.js';
import { diffRules, RuleWatcher } from '../../src/rules/reload.js';
import { ruleSchema } from '../../src/rules/schema.js';

const rule = (id: string, count = 3) =>
  ruleSchema.parse({
    id,
    title: id,
    severity: 'high',
    ackSla: '5m',
    match: { name: `${id}-check` },
    condition: { kind: 'consecutive', count },
  });
const set = (...rules: ReturnType<typeof rule>[]): RuleSet => ({ rules, probes: [] });

describe('rule reload', () => {
  it('tells rules added, removed and changed by id', () => {
    expect(diffRules(set(rule('a'), rule('b'), rule('c')), set(rule('a'), rule('b', 4), rule('d')))).toEqual({
      added: ['d'],
      removed: ['c'],
      changed: ['b'],
    });
  });

  it('keeps the running set when the files do not load, and clears the problem once they do', async () => {
    const health = new Health();
    const metrics = new Metrics();
    let running = set(rule('a'));
    let files: RuleSet | string = 'rules/a.yaml:7:10 condition.count: expected number, received string';
    const watcher = new RuleWatcher({
      dir: '.',
      watch: false,
      load: () => {
        if (typeof files === 'string') throw new ConfigError([files]);
        return files;
      },
      current: () => running,
      apply: async (next) => void (running = next),
      health,
      metrics,
      log: createLogger({ level: 'silent' }),
    });
    expect(await watcher.reload()).toBe('failed');
    expect(running.rules[0]?.id).toBe('a');
    expect(health.problems().rules).toContain('rules/a.yaml:7:10 condition.count');

    files = set(rule('b'));
    expect(await watcher.reload()).toBe('ok');
    expect(running.rules.map((r) => r.id)).toEqual(['b']);
    expect(health.ok).toBe(true);
    expect(metrics.value('vigil_rules_reload_total', { result: 'failed' })).toBe(1);
    expect(metrics.value('vigil_rules_reload_total', { result: 'ok' })).toBe(1);
    await watcher.close();
  });

  it('does not overlap reloads: one asked for during another runs after it', async () => {
    let loads = 0;
    let release: () => void = () => undefined;
    const watcher = new RuleWatcher({
      dir: '.',
      watch: false,
      load: () => (++loads, set(rule('a'))),
      current: () => set(rule('a')),
      apply: () => (loads === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
      health: new Health(),
      metrics: new Metrics(),
      log: createLogger({ level: 'silent' }),
    });
    const first = watcher.reload();
    const second = watcher.reload();
    expect(loads).toBe(1);
    release();
    await Promise.all([first, second]);
    await watcher.close();
    expect(loads).toBe(2);
  });
});
