import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { DATABASE_URL, REDIS_URL } from '../support/env.js';
import { silenceWorld, type SilenceWorld } from '../support/silence-world.js';

let world: SilenceWorld | undefined;
let dir: string | undefined;
afterEach(async () => {
  await world?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  world = dir = undefined;
});

async function setup() {
  world = await silenceWorld();
  dir = mkdtempSync(join(tmpdir(), 'vigil-silences-cli-'));
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    `database:\n  url: ${DATABASE_URL}\n  schema: ${world.schema}\nredis:\n  url: ${REDIS_URL}\nrules:\n  dir: ${resolve('rules')}\n`,
  );
  const w = world;
  return {
    w,
    cli: (...args: string[]) =>
      runCli(['silences', ...args, '--config', config], { env: { USER: 'tester' } }),
  };
}

describe('vigil silences', () => {
  it('refuses a bad matcher, a missing reason or duration, an unparsable time: one line, exit 2, nothing stored', async () => {
    const { w, cli } = await setup();
    const cases: Array<[string[], string]> = [
      [
        ['--match', 'api-health', '--for', '2h', '--reason', 'x'],
        'vigil: matcher "api-health": expected name=value',
      ],
      [
        ['--match', 'host=~db-(', '--for', '2h', '--reason', 'x'],
        'vigil: matcher "host=~db-(": invalid regex',
      ],
      [['--match', 'rule=api-health', '--for', '2h'], 'vigil: --reason is required'],
      [
        ['--match', 'rule=api-health', '--for', 'two hours', '--reason', 'x'],
        'vigil: --for "two hours": use a duration',
      ],
      [
        ['--match', 'rule=api-health', '--reason', 'x'],
        'vigil: give either --for <duration> or --until <ISO time>',
      ],
      [
        ['--match', 'rule=api-health', '--until', 'tomorrow', '--reason', 'x'],
        'vigil: --until "tomorrow": not an ISO time',
      ],
      [['--for', '2h', '--reason', 'x'], 'vigil: --match is required'],
    ];
    const results = await Promise.all(cases.map(([args]) => cli('add', ...args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(cases[i]![1]);
    });
    expect((await w.pool.query('SELECT * FROM vigil_silences')).rows).toEqual([]);
  }, 180_000);

  it('add, list and expire round trip; list counts the incidents each holds', async () => {
    const { w, cli } = await setup();
    const held = await w.incident({ labels: { host: 'db-2' } });
    const add = await cli(
      'add',
      '--match',
      'rule=api-health',
      '--match',
      'host=~db-.*',
      '--for',
      '2h',
      '--reason',
      'deploy',
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(
      /^Silence #1 active \S+Z → \S+Z: rule=api-health host=~db-\.\* \(1 open incident\(s\) held\)\n$/,
    );
    const until = await cli(
      'add',
      '--match',
      'severity=info',
      '--starts',
      '2099-01-01T00:00:00Z',
      '--until',
      '2099-01-01T02:00:00Z',
      '--reason',
      'later',
      '--by',
      'alice',
    );
    expect(until.stdout).toContain(
      'Silence #2 pending 2099-01-01T00:00:00Z → 2099-01-01T02:00:00Z: severity=info (0 open',
    );

    const list = await cli('list');
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID +STATE +MATCHERS +STARTS +ENDS +BY +HOLDS +REASON$/);
    expect(lines[1]).toMatch(
      /^#2 +pending +severity=info +2099-01-01T00:00:00Z +2099-01-01T02:00:00Z +alice +0 +later$/,
    );
    expect(lines[2]).toMatch(/^#1 +active +rule=api-health host=~db-\.\* +\S+ +\S+ +tester +1 +deploy$/);

    const json = JSON.parse((await cli('list', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(json.map((s) => [s.id, s.state, s.holds])).toEqual([
      ['2', 'pending', 0],
      ['1', 'active', 1],
    ]);

    const expire = await cli('expire', '1', '--by', 'bob');
    expect(expire.stdout).toBe('Expired silence #1; the incidents it held are released at the next sweep\n');
    const again = await cli('expire', '#1');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Silence #1 had already ended \(\S+Z, expired by bob\)\n$/);
    const missing = await cli('expire', '42');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('vigil: no silence #42\n');

    expect((await cli('list')).stdout).not.toContain('#1 ');
    const all = await cli('list', '--all');
    expect(all.stdout).toMatch(/\n#1 +expired +rule=api-health/);
    const { rows } = await w.pool.query('SELECT held, held_by FROM vigil_incidents WHERE id = $1', [held]);
    expect(rows).toEqual([{ held: 'silenced', held_by: '1' }]);
  }, 180_000);
});
