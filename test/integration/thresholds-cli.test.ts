import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { runCli } from '../support/cli.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
let dir: string | undefined;
afterEach(async () => {
  await env?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  env = dir = undefined;
});

/** A migrated schema of its own and a config file for it, with the repository's rules. */
async function setup(
  { migrated } = { migrated: true },
): Promise<{ world: TestEnv; cli: (...args: string[]) => ReturnType<typeof runCli> }> {
  const world = await createTestEnv();
  env = world;
  if (migrated) await migrate(world.db, world.schema);
  dir = mkdtempSync(join(tmpdir(), 'vigil-thresholds-cli-'));
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    `database:\n  url: ${DATABASE_URL}\n  schema: ${world.schema}\nredis:\n  url: ${REDIS_URL}\n  prefix: ${world.prefix}\nrules:\n  dir: ${resolve('rules')}\n`,
  );
  return { world, cli: (...args) => runCli(['thresholds', ...args, '--config', config]) };
}

describe('vigil thresholds', () => {
  it('on a database Vigil has not set up yet, says to migrate (exit 1) instead of a SQL error', async () => {
    const { cli } = await setup({ migrated: false });
    const list = await cli('list');
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/no thresholds table in schema \w+ — run `vigil migrate` with this config/);
  });

  it('list shows where each number comes from (file or table: who, when, why) and a bad row with its reason', async () => {
    const { world, cli } = await setup();
    await world.db.query(
      `INSERT INTO ${world.schema}.vigil_thresholds (rule_id, key, value, updated_by, reason) VALUES
         ('api-health', 'count', 5, 'alice', 'flaky network'), ('task-failures', 'count', 0, 'bob', ''),
         ('gone', 'count', 2, 'carol', '')`,
    );
    const list = await cli('list');
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^availability +api-health +HELIX API health check fails {2}count=5 {2}ack SLA 5m {2}table \(alice, \d{4}-\d\d-\d\dT[\d:.]+Z: flaky network\)$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/ api-health .* resolveAfter=1 {2}ack SLA 5m {2}file$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        / task-failures .* count=3 .* file {2}INVALID row 0 ignored: count must be a whole number ≥ 1, got 0$/,
      ),
    );
    expect(lines).toContain('INVALID row gone count=2 ignored: unknown rule "gone"');

    const json = JSON.parse((await cli('list', '--json')).stdout) as {
      thresholds: unknown[];
      invalid: unknown[];
    };
    expect(json.thresholds).toContainEqual(
      expect.objectContaining({
        rule: 'api-health',
        key: 'count',
        value: 5,
        origin: 'table',
        changedBy: 'alice',
      }),
    );
    expect(json.invalid).toEqual([{ rule: 'gone', key: 'count', value: 2, problem: 'unknown rule "gone"' }]);
  });

  it('set refuses an unknown rule, an unknown key or a bad value with the reason, exit 2, and changes nothing', async () => {
    const { world, cli } = await setup();
    const cases: Array<[string[], string]> = [
      [['nope', 'count=2'], 'vigil: nope: unknown rule "nope"'],
      [
        ['api-health', 'window=2'],
        'vigil: api-health: unknown threshold key "window" for a consecutive rule',
      ],
      [['api-health', 'count=NaN'], 'vigil: api-health: count must be a whole number ≥ 1, got NaN'],
      [['api-health', 'count=-1'], 'vigil: api-health: count must be a whole number ≥ 1, got -1'],
      [
        ['api-health', 'count=2', 'resolveAfter=1.5'],
        'vigil: api-health: resolveAfter must be a whole number ≥ 1, got 1.5',
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => cli('set', ...args, '--reason', 'test')));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toContain(cases[i]![1]);
    });
    const { rows } = await world.db.query(`SELECT * FROM ${world.schema}.vigil_thresholds`);
    expect(rows).toEqual([]);
  });

  it('set, history, revert and reset round trip, each audited with who and why', async () => {
    const { world, cli } = await setup();
    const set = await cli(
      'set',
      'api-health',
      'count=5',
      'resolveAfter=2',
      '--reason',
      'flaky network',
      '--by',
      'alice',
    );
    expect(set.stderr).toBe('');
    expect(set.stdout).toBe('api-health count = 5\napi-health resolveAfter = 2\n');
    expect((await cli('set', 'api-health', 'count=7', '--reason', 'still noisy', '--by', 'bob')).code).toBe(
      0,
    );

    const history = JSON.parse((await cli('history', 'api-health', '--json')).stdout) as Array<
      Record<string, unknown>
    >;
    expect(
      history.map(({ key, oldValue, newValue, changedBy, reason }) => ({
        key,
        oldValue,
        newValue,
        changedBy,
        reason,
      })),
    ).toEqual([
      { key: 'count', oldValue: 5, newValue: 7, changedBy: 'bob', reason: 'still noisy' },
      { key: 'resolveAfter', oldValue: null, newValue: 2, changedBy: 'alice', reason: 'flaky network' },
      { key: 'count', oldValue: null, newValue: 5, changedBy: 'alice', reason: 'flaky network' },
    ]);
    const text = await cli('history', 'api-health');
    expect(text.stdout).toMatch(/^#\d+ {2}\S+ {2}count: 5 → 7 {2}by bob: still noisy$/m);
    expect(text.stdout).toContain('3 change(s) of api-health');

    // Undo bob's change: count goes back to 5.
    const revert = await cli(
      'revert',
      'api-health',
      String(history[0]!.id),
      '--reason',
      'too slow',
      '--by',
      'carol',
    );
    expect(revert.stdout).toContain(`api-health count = 5 (reverted #${String(history[0]!.id)})`);
    // Undo the first set of resolveAfter: no row, the file's default again.
    await cli(
      'revert',
      'api-health',
      String(history[1]!.id),
      '--reason',
      'back to the file',
      '--by',
      'carol',
    );
    const values = async () =>
      (await world.db.query(`SELECT key, value FROM ${world.schema}.vigil_thresholds ORDER BY key`)).rows;
    expect(await values()).toEqual([{ key: 'count', value: 5 }]);
    expect((await cli('revert', 'api-health', '999999', '--reason', 'x')).code).toBe(2);

    const reset = await cli('reset', 'api-health', '--reason', 'incident over', '--by', 'dave');
    expect(reset.stdout).toContain('api-health: 1 tuned row(s) removed');
    expect(await values()).toEqual([]);
    const trail = JSON.parse((await cli('history', 'api-health', '--json')).stdout) as Array<
      Record<string, unknown>
    >;
    expect(
      trail.slice(0, 3).map(({ key, oldValue, newValue, changedBy, reason }) => ({
        key,
        oldValue,
        newValue,
        changedBy,
        reason,
      })),
    ).toEqual([
      { key: 'count', oldValue: 5, newValue: null, changedBy: 'dave', reason: 'incident over' },
      { key: 'resolveAfter', oldValue: 2, newValue: null, changedBy: 'carol', reason: 'back to the file' },
      { key: 'count', oldValue: 7, newValue: 5, changedBy: 'carol', reason: 'too slow' },
    ]);
    expect((await cli('reset', 'nope', '--reason', 'x')).code).toBe(2);
    // Nine CLI runs in a row, each a process start: more than the default 30 s on a busy CI machine.
  }, 90_000);
});
