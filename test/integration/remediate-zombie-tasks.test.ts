import { afterEach, beforeEach, expect, it } from 'vitest';
import { fixZombieTasks } from '../../src/remediate/actions/fix-zombie-tasks.js';
import { DATABASE_URL } from '../support/env.js';
import { createZombieWorld, type TaskRow, type ZombieWorld } from '../support/zombie-tasks.js';

let world: ZombieWorld;
beforeEach(async () => {
  world = await createZombieWorld();
});
afterEach(async () => {
  await world.close();
});

const spec = (extra: Record<string, unknown> = {}) =>
  fixZombieTasks.schema.parse({
    action: 'fix-zombie-tasks',
    url: DATABASE_URL,
    table: world.table,
    stuckFor: '30m',
    maxAttempts: 3,
    ...extra,
  });

const fixedIds = (steps: { name: string; output?: string }[]) =>
  steps.filter((s) => s.name.startsWith('batch ') && s.output).flatMap((s) => s.output?.split(' ') ?? []);

/** Rows other than `changed` are exactly as they were. */
function expectUnchanged(before: Map<string, TaskRow>, after: Map<string, TaskRow>, changed: string[]) {
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [id, row] of before) if (!changed.includes(id)) expect(after.get(id), `task ${id}`).toEqual(row);
}

const sorted = (ids: string[]) => [...ids].sort((a, b) => Number(a) - Number(b));

it('fixes exactly the unlocked zombies (NULL error_log too), skips rows workers hold without waiting, and a second run gets those', async () => {
  const healthy = [
    ...(await world.add(2, 'processing', 1, null, 1)),
    ...(await world.add(1, 'processing', 2, 'retrying after a timeout', 5)),
  ];
  const stuckNull = await world.add(5, 'processing', 1, null, 120);
  const stuckLog = await world.add(4, 'processing', 2, 'Traceback: worker lost', 120);
  // Task 109039: re-processed again and again, updated just now, error_log NULL.
  const loopNull = await world.add(3, 'processing', 3, null, 1);
  const loopLog = await world.add(2, 'processing', 5, 'TimeoutError', 1);
  const loopStale = await world.add(1, 'processing', 4, null, 300);
  await world.add(3, 'done', 1, null, 300);
  await world.add(2, 'failed', 3, 'ValueError', 300);
  await world.add(3, 'pending', 4, null, 300);
  const resettable = [...stuckNull, ...stuckLog];
  const givingUp = [...loopNull, ...loopLog, ...loopStale];
  const lockedA = [stuckNull[0], stuckLog[1], loopNull[0]].map(String);
  const lockedB = [String(stuckNull[1])];
  const locked = [...lockedA, ...lockedB];
  const workerA = await world.worker(lockedA, 'select');
  const workerB = await world.worker(lockedB, 'update');
  const before = await world.rows();

  // Awaited while both workers still hold their locks: a run that waited on them would never end.
  const first = world.context('run-1');
  const result = await fixZombieTasks.run(spec({ batch: 4 }), first.ctx);
  const after = await world.rows();

  const fixed = fixedIds(first.steps);
  const expectedReset = resettable.filter((id) => !locked.includes(id));
  const expectedGiveUp = givingUp.filter((id) => !locked.includes(id));
  expect(sorted(fixed)).toEqual(sorted([...expectedReset, ...expectedGiveUp]));
  expect(result).toEqual({
    outcome: 'done',
    summary: expect.stringMatching(
      /^reset 6 stuck tasks to pending, gave up on 5 re-processed ≥3 times \(failed\) \(ids .+\); 4 locked by a worker, left$/,
    ) as string,
  });
  expect(first.steps.map((s) => `${s.name} ${s.outcome}`)).toEqual([
    'connect ok',
    'batch 1 ok',
    'batch 2 ok',
    'batch 3 ok',
    'left ok',
  ]);
  for (const id of expectedReset) {
    const was = before.get(id);
    expect(after.get(id)).toMatchObject({ status: 'pending', attempts: was?.attempts });
    const note = '[vigil run run-1] reset to "pending": in "processing" without an update for over 30m';
    expect(after.get(id)?.error_log).toBe(was?.error_log === null ? note : `${was?.error_log}\n${note}`);
  }
  for (const id of expectedGiveUp) {
    expect(after.get(id)?.status).toBe('failed');
    expect(after.get(id)?.error_log).toMatch(
      /^(TimeoutError\n)?\[vigil run run-1\] gave up \(status "failed"\)/,
    );
  }
  expectUnchanged(before, after, fixed);
  expect(healthy.every((id) => after.get(id)?.status === 'processing')).toBe(true);

  await workerA.release();
  await workerB.release();
  const second = world.context('run-2');
  expect(await fixZombieTasks.run(spec({ batch: 4 }), second.ctx)).toMatchObject({
    outcome: 'done',
    summary: expect.stringMatching(/^reset 3 stuck tasks to pending, gave up on 1 re-processed/) as string,
  });
  expect(sorted(fixedIds(second.steps))).toEqual(sorted(locked));
  expectUnchanged(after, await world.rows(), locked);

  const third = world.context('run-3');
  expect(await fixZombieTasks.run(spec(), third.ctx)).toEqual({
    outcome: 'done',
    summary: 'no zombie tasks',
  });
});

it('stops at batch × maxBatches with zombies left, says so, and never loops', async () => {
  const stuck = await world.add(40, 'processing', 1, null, 120);
  const before = await world.rows();
  const { ctx, steps } = world.context('run-cap');
  const result = await fixZombieTasks.run(spec({ batch: 5, maxBatches: 3 }), ctx);
  expect(result.outcome).toBe('done');
  expect(result.summary).toMatch(
    /^reset 15 stuck tasks to pending .*; stopped at the cap of 3 batches of 5: 25 more left$/,
  );
  expect(steps.map((s) => s.name)).toEqual(['connect', 'batch 1', 'batch 2', 'batch 3', 'left']);
  expect(fixedIds(steps)).toEqual(stuck.slice(0, 15));
  expectUnchanged(before, await world.rows(), stuck.slice(0, 15));
});

it('quotes mapped, mixed-case names', async () => {
  await world.db.query(`CREATE TABLE ${world.schema}."HelixTasks" (
    "TaskId" text PRIMARY KEY, "State" text, tries int, log text, touched timestamptz)`);
  await world.db.query(`INSERT INTO ${world.schema}."HelixTasks" VALUES
    ('a', 'running', 1, NULL, now() - interval '2 hours'), ('b', 'running', 1, NULL, now()),
    ('c', 'running', NULL, NULL, NULL)`);
  const s = spec({
    table: `${world.schema}.HelixTasks`,
    columns: { id: 'TaskId', status: 'State', attempts: 'tries', errorLog: 'log', updatedAt: 'touched' },
    processing: 'running',
    resetTo: 'queued',
  });
  const { ctx } = world.context('run-mapped');
  expect(await fixZombieTasks.run(s, ctx)).toMatchObject({
    outcome: 'done',
    summary: expect.stringContaining('(ids a, c)') as string,
  });
  const { rows } = await world.db.query(
    `SELECT "TaskId", "State" FROM ${world.schema}."HelixTasks" ORDER BY 1`,
  );
  expect(rows).toEqual([
    { TaskId: 'a', State: 'queued' },
    { TaskId: 'b', State: 'running' },
    { TaskId: 'c', State: 'queued' },
  ]);
});
