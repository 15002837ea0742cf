import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createRedis } from '../../src/queues/connection.js';
import { seriesKey } from '../../src/rules/fingerprint.js';
import { kindOf } from '../../src/rules/kinds/registry.js';
import { loadRules } from '../../src/rules/loader.js';
import { WindowStore } from '../../src/rules/window-store.js';
import { runCli } from '../support/cli.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  env = dir = undefined;
});

const ratioRule = `id: task-failure-rate
title: Task failure rate
severity: high
ackSla: 10m
category: business
match: { source: pg, name: task }
condition: { kind: ratio, value: 5%, window: 10m, minSamples: 4 }
`;

describe('vigil thresholds on windowed rules', () => {
  it('reads and shows durations and fractions as people write them, and each series’ value now', async () => {
    env = await createTestEnv();
    await migrate(env.db, env.schema);
    dir = mkdtempSync(join(tmpdir(), 'vigil-thresholds-windows-'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'rate.yaml'), ratioRule);
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      `database:\n  url: ${DATABASE_URL}\n  schema: ${env.schema}\nredis:\n  url: ${REDIS_URL}\n  prefix: ${env.prefix}\nrules:\n  dir: rules\n`,
    );
    const cli = (...args: string[]) => runCli(['thresholds', ...args, '--config', config]);

    // A live series: 1 failure in 4 tasks, 25 % > 5 %: firing.
    const rule = loadRules(join(dir, 'rules'), {}).rules[0]!;
    const redis = createRedis(REDIS_URL, 'client', env.prefix);
    const now = Date.now();
    const fingerprint = 'task-failure-rate{}';
    await new WindowStore(redis, env.prefix).apply(
      [
        {
          key: seriesKey(env.prefix, fingerprint),
          rule: rule.id,
          fingerprint,
          labels: {},
          kind: kindOf(rule.condition),
          condition: rule.condition,
          samples: [true, true, false, true].map((ok, i) => ({
            id: `t${i}`,
            atMs: now - 1000 * (4 - i),
            ok,
            value: undefined,
          })),
        },
      ],
      now,
    );
    await redis.quit();

    // Independent of each other: run together (each is a process start).
    const [set, refused, perSeries] = await Promise.all([
      cli('set', 'task-failure-rate', 'window=15m', 'value=2.5%', '--reason', 'test', '--by', 'al'),
      cli('set', 'task-failure-rate', 'window=-5m', '--reason', 'test'),
      cli('set', 'task-failure-rate', 'value=1%', '--series', 'host=a', '--reason', 't'),
    ]);
    expect(set.stderr).toBe('');
    const { rows } = await env.db.query<{ key: string; value: number }>(
      `SELECT key, value FROM ${env.schema}.vigil_thresholds ORDER BY key`,
    );
    expect(rows).toEqual([
      { key: 'value', value: 0.025 },
      { key: 'window', value: 900_000 },
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('window must be a duration of at least 1s');
    expect(perSeries.code).toBe(2);
    expect(perSeries.stderr).toContain(
      'task-failure-rate has no groupBy: it has one series, so no per-series rows',
    );

    const list = await cli('list');
    expect(list.stderr).toBe('');
    const lines = list.stdout.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/ task-failure-rate .* window=15m {2}ack SLA 10m {2}table \(al, /),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/ task-failure-rate .* minSamples=4 {2}ack SLA 10m {2}file$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {4}now task-failure-rate\{\}: 25 % {2}FIRING since \d{4}-\d\d-\d\dT/),
    );
  });
});
