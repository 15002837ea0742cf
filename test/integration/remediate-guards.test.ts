import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import type { TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';
import { replies, runsOf } from '../support/remediation-world.js';
import { zombieAgent, type ZombieAgent } from '../support/zombie-agent.js';

let world: ZombieAgent | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A silence over the zombie rule, in place before the agent starts. */
async function silenced(env: TestEnv): Promise<void> {
  await migrate(env.db, env.schema);
  await env.db.query(
    `INSERT INTO ${env.schema}.vigil_silences (matchers, ends_at, created_by, reason)
     VALUES ($1, now() + interval '1 hour', 'alice (cli)', 'maintenance')`,
    [JSON.stringify([{ name: 'rule', op: '=', value: 'zombie-tasks' }])],
  );
}

describe('remediation guards in an agent', () => {
  it('does not run for a silenced incident', async () => {
    const w = (world = await zombieAgent({ beforeStart: silenced }));
    await until('the run is judged', async () => (await runsOf(w.env))[0]?.state === 'skipped');
    expect((await runsOf(w.env))[0]!.outcome).toBe(
      'the incident is silenced: remediation does not run while held',
    );
    await quietPeriod();
    expect(await w.statusOf(w.stuck)).toEqual(['processing', 'processing', 'processing']);
    // Nobody was told of the silenced incident, so nobody hears of its run either.
    expect(replies(w.env, 'fix-zombie-tasks')).toHaveLength(0);
  });

  it('runs for a held incident when the rule says evenWhenHeld', async () => {
    const w = (world = await zombieAgent({
      entry: '    cooldown: 0s\n    evenWhenHeld: true',
      beforeStart: silenced,
    }));
    await until('the run succeeded', async () => (await runsOf(w.env))[0]?.state === 'succeeded', 15_000);
    expect(await w.statusOf(w.stuck)).toEqual(['pending', 'pending', 'pending']);
  });

  it('a second run on the target waits out the cooldown after the first', async () => {
    const w = (world = await zombieAgent({ entry: '    cooldown: 3s' }));
    await until(
      'the first run succeeded',
      async () => (await runsOf(w.env))[0]?.state === 'succeeded',
      15_000,
    );
    await until('its incident resolved', async () => (await w.incidents())[0]?.state === 'resolved');
    await w.tasks.add(2, 'processing', 1, null, 30);
    await until(
      'the second run succeeded',
      async () => (await runsOf(w.env))[1]?.state === 'succeeded',
      20_000,
    );
    const { rows } = await w.env.db.query<{ started_at: Date; finished_at: Date }>(
      `SELECT started_at, finished_at FROM ${w.env.schema}.vigil_remediation_runs ORDER BY id`,
    );
    expect(rows[1]!.started_at.getTime() - rows[0]!.finished_at.getTime()).toBeGreaterThanOrEqual(3000);
    await quietPeriod();
    expect(await runsOf(w.env)).toHaveLength(2);
  });
});
