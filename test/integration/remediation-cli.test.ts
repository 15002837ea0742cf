import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { runCli } from '../support/cli.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';
import { auditRows, insertIncident } from '../support/oncall.js';
import { until } from '../support/quiet.js';
import { insertRun, insertStep, runRow } from '../support/remediation-rows.js';
import { runsOf } from '../support/remediation-world.js';
import { zombieAgent } from '../support/zombie-agent.js';

let env: TestEnv | undefined;
let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** vigil.yaml for the CLI: this world's schema and prefix, times in Shanghai, one zombie-tasks target. */
function configFile(world: TestEnv, table = 'public.tasks'): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-remediation-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'vigil.yaml');
  writeFileSync(
    file,
    [
      `database: { url: "${DATABASE_URL}", schema: ${world.schema} }`,
      `redis: { url: "${REDIS_URL}", prefix: ${world.prefix} }`,
      'oncall: { timeZone: Asia/Shanghai }',
      'remediation:',
      '  targets:',
      `    helix-tasks: { action: fix-zombie-tasks, url: "${DATABASE_URL}", table: ${table}, stuckFor: 5m }`,
      '',
    ].join('\n'),
  );
  return file;
}

const cliFor =
  (file: string) =>
  (...args: string[]) =>
    runCli([...args, '--config', file], { env: { USER: 'dana' } });

async function setup() {
  const world = await createTestEnv();
  env = world;
  await migrate(world.db, world.schema);
  return { world, cli: cliFor(configFile(world)) };
}

const zoned = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\+8/;

describe('vigil remediation and incidents show, on runs written as the runner writes them', () => {
  it('show prints each run with its times, answers, verification and steps, output bounded; --json has it all', async () => {
    const { world, cli } = await setup();
    const id = await insertIncident(world, { ruleId: 'zombie-tasks', title: 'HELIX has zombie tasks' });
    const done = await insertRun(world, id, {
      state: 'succeeded',
      entry: 0,
      verified: true,
      decidedBy: 'alice (slack U0ALICE)',
      outcome: 'reset 3 tasks; probe helix-zombie-tasks passed 1s after the action (try 1)',
    });
    const output = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
    await insertStep(world, done, 1, { name: 'reset', outcome: 'ok', detail: '3 tasks reset', output });
    await insertStep(world, done, 2, { name: 'verify', outcome: 'ok', detail: 'probe passed' });
    const failed = await insertRun(world, id, { state: 'failed', entry: 1, verified: false, outcome: 'no' });
    await insertStep(world, failed, 1, { name: 'reset', outcome: 'failed', detail: 'table missing' });
    await insertStep(world, failed, 2, { name: 'verify', outcome: 'skipped', detail: 'not run' });

    const show = await cli('incidents', 'show', id);
    expect([show.code, show.stderr]).toEqual([0, '']);
    const text = show.stdout;
    expect(text).toMatch(
      new RegExp(`\\nRemediation\\n  run ${done}  fix-zombie-tasks on helix-tasks  succeeded\\n`),
    );
    expect(text).toMatch(new RegExp(`requested +${zoned.source}`));
    expect(text).toMatch(new RegExp(`started +${zoned.source} by test-agent`));
    expect(text).toMatch(new RegExp(`finished +${zoned.source}`));
    expect(text).toMatch(/decided +approved by alice \(slack U0ALICE\)/);
    expect(text).toMatch(/verified +yes\n/);
    expect(text).toMatch(/outcome +reset 3 tasks; probe helix-zombie-tasks passed/);
    expect(text).toMatch(
      / {6}✓ reset: 3 tasks reset\n {10}… 10 earlier lines \(--json shows all\)\n {10}line 11\n/,
    );
    expect(text).toMatch(/ {10}line 30\n {6}✓ verify: probe passed\n/);
    expect(text).not.toMatch(/ line 10\n/);
    expect(text).toMatch(new RegExp(`run ${failed}  fix-zombie-tasks on helix-tasks  failed\\n`));
    expect(text).toMatch(/verified +no: the probe still failed/);
    expect(text).toMatch(/✗ reset: table missing\n {6}– verify: not run/);

    const json = JSON.parse((await cli('incidents', 'show', id, '--json')).stdout) as {
      runs: { id: string; state: string; steps: { name: string; output: string }[] }[];
    };
    expect(json.runs.map((r) => [r.id, r.state])).toEqual([
      [done, 'succeeded'],
      [failed, 'failed'],
    ]);
    expect(json.runs[0]!.steps[0]!.output).toBe(output);
  }, 180_000);

  it('lists runs, approves and rejects once with who, and refuses unknown or malformed ids', async () => {
    const { world, cli } = await setup();
    const id = await insertIncident(world, { ruleId: 'zombie-tasks' });
    const other = await insertIncident(world, { ruleId: 'zombie-tasks' });
    const asking = await insertRun(world, id, { state: 'awaiting-approval', entry: 0, minutes: 10 });
    const toReject = await insertRun(world, id, { state: 'awaiting-approval', entry: 1, minutes: 10 });
    const elsewhere = await insertRun(world, other, {
      state: 'dry-run',
      entry: 0,
      outcome: 'dry run: would',
    });

    // Each CLI run starts Node and tsx (seconds on a busy machine): reads that do not depend on each other run at once.
    const [list, filtered, badState] = await Promise.all([
      cli('remediation', 'list'),
      cli('remediation', 'list', '--incident', `#${id}`, '--state', 'awaiting-approval', '--json'),
      cli('remediation', 'list', '--state', 'sleeping'),
    ]);
    expect([list.code, list.stderr]).toEqual([0, '']);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN +INCIDENT +STATE +ACTION +TARGET +REQUESTED +DECIDED +OUTCOME$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([elsewhere, toReject, asking]);
    expect((JSON.parse(filtered.stdout) as { id: string }[]).map((r) => r.id)).toEqual([toReject, asking]);
    expect([badState.code, badState.stderr]).toEqual([
      2,
      expect.stringMatching(/^vigil: --state must be one of/),
    ]);

    const approve = await cli('remediation', 'approve', asking, '--by', 'erin');
    expect([approve.code, approve.stderr]).toEqual([0, '']);
    expect(approve.stdout.trim()).toBe(`Approved run ${asking} of #${id}: queued to run now`);
    expect(await runRow(world, asking)).toMatchObject({ state: 'approved', decided_by: 'erin (cli)' });
    // The agents' remediate queue has the job: a worker runs it now, not at the sweeper's next pass.
    const queue = new Queue('remediate', { connection: { url: REDIS_URL }, prefix: world.prefix });
    cleanups.push(() => queue.close());
    expect((await queue.getJob(`run-${asking}-approved`))?.data).toEqual({ runId: asking });
    const again = await cli('remediation', 'approve', asking);
    expect([again.code, again.stdout]).toEqual([1, '']);
    expect(again.stderr).toBe(
      `vigil: Run ${asking} is not waiting for approval: it is approved (decided by erin (cli))\n`,
    );

    const reject = await cli('remediation', 'reject', toReject);
    expect([reject.code, reject.stdout.trim()]).toEqual([0, `Rejected run ${toReject} of #${id}`]);
    expect(await runRow(world, toReject)).toMatchObject({ state: 'rejected', decided_by: 'dana (cli)' });
    expect((await runRow(world, toReject))!.finished_at).toBeInstanceOf(Date);
    const notes = (await auditRows(world, id)).filter((r) => r.kind === 'remediation');
    expect(notes.map((n) => [n.actor, n.note])).toEqual([
      ['erin (cli)', `👍 fix-zombie-tasks on helix-tasks (run ${asking}) approved by erin (cli): running it`],
      ['dana (cli)', `👎 fix-zombie-tasks on helix-tasks (run ${toReject}) rejected by dana (cli): not run`],
    ]);
    const [ended, unknown, malformed, show] = await Promise.all([
      cli('remediation', 'approve', elsewhere),
      cli('remediation', 'approve', '987654321'),
      cli('remediation', 'reject', '12; rm -rf /'),
      cli('incidents', 'show', id),
    ]);
    expect([ended.code, ended.stderr]).toEqual([
      1,
      `vigil: Run ${elsewhere} is not waiting for approval: it is dry-run\n`,
    ]);
    expect([unknown.code, unknown.stderr]).toEqual([1, 'vigil: no remediation run 987654321\n']);
    expect([malformed.code, malformed.stderr]).toEqual([
      2,
      'vigil: "12; rm -rf /" is not a run number (e.g. 12)\n',
    ]);
    expect(show.stdout).toMatch(/decided +approved by erin \(cli\)/);
    expect(show.stdout).toMatch(/decided +rejected by dana \(cli\)/);
  }, 180_000);

  it('shows the switched-off targets, switches one on again with who, and describes the configured targets', async () => {
    const { world, cli } = await setup();
    const id = await insertIncident(world, { ruleId: 'zombie-tasks' });
    const runs: string[] = [];
    for (const entry of [0, 1, 2]) runs.push(await insertRun(world, id, { state: 'failed', entry }));
    await world.db.query(
      `INSERT INTO ${world.schema}.vigil_remediation_disabled (target, reason, runs) VALUES ($1, $2, $3::bigint[])`,
      ['helix-tasks', '3 failed fix-zombie-tasks runs in a row', [...runs].reverse()],
    );

    const [off, targets, unknown] = await Promise.all([
      cli('remediation', 'disabled'),
      cli('remediation', 'targets'),
      cli('remediation', 'enable', 'helix-nothing'),
    ]);
    expect([off.code, off.stderr]).toEqual([0, '']);
    expect(off.stdout).toMatch(/^TARGET +ACTION +SINCE +RUNS +REASON\n/);
    expect(off.stdout).toMatch(
      new RegExp(
        `helix-tasks +fix-zombie-tasks +${zoned.source} +${[...runs].reverse().join(',')} +3 failed`,
      ),
    );
    expect(targets.stdout).toMatch(/^helix-tasks {2}fix-zombie-tasks {2}switched off since .*: 3 failed/);
    expect(targets.stdout).toMatch(/\n {2}in public\.tasks: reset tasks in "processing" for over 5m/);
    // Only what a run would do: a target's spec may carry credentials (here, a database URL).
    expect(targets.stdout).not.toContain(DATABASE_URL);

    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      'vigil: no target "helix-nothing" in remediation.targets (configured: helix-tasks)\n',
    ]);
    const on = await cli('remediation', 'enable', 'helix-tasks', '--by', 'frank');
    expect([on.code, on.stderr]).toEqual([0, '']);
    expect(on.stdout).toMatch(
      /^fix-zombie-tasks on helix-tasks switched on again by frank \(cli\) \(off since .* GMT\+8: 3 failed/,
    );
    const notes = (await auditRows(world, id)).filter((r) => r.kind === 'remediation');
    expect(notes).toEqual([
      expect.objectContaining({
        actor: 'frank (cli)',
        note: expect.stringMatching(/^🔁 fix-zombie-tasks on helix-tasks switched on again by frank/),
      }),
    ]);
    const [none, twice, json] = await Promise.all([
      cli('remediation', 'disabled'),
      cli('remediation', 'enable', 'helix-tasks'),
      cli('remediation', 'targets', '--json'),
    ]);
    expect(none.stdout.trim()).toBe('no target is switched off');
    expect([twice.code, twice.stderr]).toEqual([
      1,
      'vigil: helix-tasks is not switched off: nothing to do\n',
    ]);
    expect(JSON.parse(json.stdout)).toEqual({
      dryRun: false,
      targets: [
        expect.objectContaining({ target: 'helix-tasks', action: 'fix-zombie-tasks', disabled: null }),
      ],
    });
  }, 180_000);
});

describe('vigil remediation approve with an agent running', () => {
  it('an approved run runs at once, long before the sweeper would queue it, and show prints its real steps', async () => {
    // A lease of a minute: the sweeper re-queues an approved run only once it is that old.
    const zombies = await zombieAgent({
      entry: '    cooldown: 0s\n    approval: true',
      extra: { leaseFor: '60s' },
    });
    cleanups.push(() => zombies.close());
    const { env: world, tasks } = zombies;
    await until('waiting for approval', async () => (await runsOf(world))[0]?.state === 'awaiting-approval');
    const [run] = await runsOf(world);
    const cli = cliFor(configFile(world, tasks.table));

    const approved = await cli('remediation', 'approve', run!.id, '--by', 'grace');
    expect([approved.code, approved.stderr]).toEqual([0, '']);
    const decidedAt = Date.now();
    await until(
      'the approved run succeeded',
      async () => (await runsOf(world))[0]?.state === 'succeeded',
      20_000,
    );
    expect(Date.now() - decidedAt).toBeLessThan(20_000);
    expect((await runsOf(world))[0]).toMatchObject({ decided_by: 'grace (cli)', verified: true });

    const show = await cli('incidents', 'show', run!.incident_id);
    expect(show.stdout).toMatch(new RegExp(`run ${run!.id}  fix-zombie-tasks on helix-tasks  succeeded\\n`));
    expect(show.stdout).toMatch(/decided +approved by grace \(cli\)/);
    expect(show.stdout).toMatch(/ {6}✓ verify: probe helix-zombie-tasks passed/);
  }, 180_000);
});
