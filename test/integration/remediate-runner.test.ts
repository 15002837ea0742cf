import { afterEach, describe, expect, it } from 'vitest';
import { quietPeriod, until } from '../support/quiet.js';
import { replies, runsOf, stepsOf } from '../support/remediation-world.js';
import { tsOf, zombieAgent, type ZombieAgent } from '../support/zombie-agent.js';

let world: ZombieAgent | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function zombies(entry = '    cooldown: 0s', extra: Record<string, unknown> = {}) {
  world = await zombieAgent({ entry, extra });
  return world;
}

describe('the remediation runner in an agent', () => {
  it('fixes the zombies its rule found, verifies with the probe, says so in the thread, and runs once', async () => {
    const w = await zombies();
    await until('the run succeeded', async () => (await runsOf(w.env))[0]?.state === 'succeeded', 15_000);
    expect(await w.statusOf(w.stuck)).toEqual(['pending', 'pending', 'pending']);
    expect(await w.statusOf(w.healthy)).toEqual(['processing', 'processing']);
    const [run] = await runsOf(w.env);
    expect(run).toMatchObject({ verified: true, target: 'helix-tasks', attempt: 1 });
    expect((await stepsOf(w.env, run!.id)).map((s) => s.name)).toContain('verify');
    await w.env.slack.waitFor((c) =>
      replies(w.env, `fix-zombie-tasks on helix-tasks (run ${run!.id}) succeeded`).includes(c),
    );
    await until('the incident resolved', async () => {
      const { rows } = await w.env.db.query(`SELECT state FROM ${w.env.schema}.vigil_incidents`);
      return rows[0]?.state === 'resolved';
    });
    await quietPeriod();
    expect(await runsOf(w.env)).toHaveLength(1);
    expect(replies(w.env, 'succeeded')).toHaveLength(1);
  });

  it('dry-run records and posts what would run, and changes nothing', async () => {
    const w = await zombies(undefined, { dryRun: true });
    await until('the dry run is recorded', async () => (await runsOf(w.env))[0]?.state === 'dry-run');
    await w.env.slack.waitFor((c) =>
      replies(w.env, 'dry-run: dry run, nothing done; a run would: in ').includes(c),
    );
    await quietPeriod();
    expect(await w.statusOf(w.stuck)).toEqual(['processing', 'processing', 'processing']);
    expect(await runsOf(w.env)).toHaveLength(1);
  });

  it('asks for approval in Slack and runs only once a signed Approve arrives', async () => {
    const w = await zombies('    cooldown: 0s\n    approval: true');
    await until('waiting for approval', async () => (await runsOf(w.env))[0]?.state === 'awaiting-approval');
    const ask = await w.env.slack.waitFor((c) => replies(w.env, 'waits for approval').includes(c));
    await quietPeriod();
    expect(await w.statusOf(w.stuck)).toEqual(['processing', 'processing', 'processing']);
    const [run] = await runsOf(w.env);
    const blocks = JSON.stringify(ask.args.blocks);
    expect(blocks).toContain(`"${run!.incident_id}:${run!.id}"`);
    const forged = await w.env.slack.press({
      channel: 'C0ALERTS',
      ts: tsOf(ask),
      actionId: 'vigil_approve',
      value: `${run!.incident_id}:${run!.id}`,
      signingSecret: 'not-the-secret',
    });
    expect(forged.status).toBe(401);
    const res = await w.env.slack.press({
      channel: 'C0ALERTS',
      ts: tsOf(ask),
      actionId: 'vigil_approve',
      value: `${run!.incident_id}:${run!.id}`,
      user: { id: 'U0ALICE', name: 'alice' },
    });
    expect(res.status).toBe(200);
    await until(
      'the approved run succeeded',
      async () => (await runsOf(w.env))[0]?.state === 'succeeded',
      15_000,
    );
    expect((await runsOf(w.env))[0]!.decided_by).toBe('alice (slack U0ALICE)');
    expect(await w.statusOf(w.stuck)).toEqual(['pending', 'pending', 'pending']);
    await w.env.slack.waitFor((c) => replies(w.env, 'approved by alice').includes(c));
  });

  it('a rejected run never runs', async () => {
    const w = await zombies('    cooldown: 0s\n    approval: true');
    await until('waiting for approval', async () => (await runsOf(w.env))[0]?.state === 'awaiting-approval');
    const ask = await w.env.slack.waitFor((c) => replies(w.env, 'waits for approval').includes(c));
    const [run] = await runsOf(w.env);
    const res = await w.env.slack.press({
      channel: 'C0ALERTS',
      ts: tsOf(ask),
      actionId: 'vigil_reject',
      value: `${run!.incident_id}:${run!.id}`,
      user: { id: 'U0BOB', name: 'bob' },
    });
    expect(res.status).toBe(200);
    await until('rejected', async () => (await runsOf(w.env))[0]?.state === 'rejected');
    await quietPeriod();
    expect(await w.statusOf(w.stuck)).toEqual(['processing', 'processing', 'processing']);
    expect(await runsOf(w.env)).toHaveLength(1);
  });

  it('a fix that does not hold counts as failed; after K in a row the target is switched off and a person paged', async () => {
    const w = await zombies('    cooldown: 0s\n    recurrence: { within: 10m, disableAfter: 2 }');
    const incidents = w.incidents;
    // Each round: the fix succeeds, the incident resolves, and the zombies come back.
    for (let round = 1; round <= 2; round++) {
      await until(
        `round ${round}'s run succeeded`,
        async () => (await runsOf(w.env))[round - 1]?.state === 'succeeded',
        15_000,
      );
      await until(
        `round ${round}'s incident resolved`,
        async () => (await incidents())[round - 1]?.state === 'resolved',
      );
      await w.tasks.add(2, 'processing', 1, null, 30);
    }
    await until('the third incident opened', async () => (await incidents()).length === 3);
    const third = (await incidents())[2]!;
    await until('its run was refused', async () => (await runsOf(w.env, third.id))[0]?.state === 'refused');
    const runs = await runsOf(w.env);
    expect(runs.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'refused']);
    expect(runs[2]!.outcome).toContain('switched off');
    const { rows: off } = await w.env.db.query(
      `SELECT target, reason, runs::text[] AS runs FROM ${w.env.schema}.vigil_remediation_disabled`,
    );
    expect(off).toEqual([
      {
        target: 'helix-tasks',
        reason: '2 failed fix-zombie-tasks runs in a row',
        runs: [runs[1]!.id, runs[0]!.id],
      },
    ]);
    // The page: the history in the new incident's thread, and its escalation now, long before its 10m ack SLA.
    const page = await w.env.slack.waitFor((c) => replies(w.env, 'switch it on again').includes(c));
    expect(String(page.args.text)).toContain(`run ${runs[0]!.id} on incident #`);
    expect(String(page.args.text)).toContain('succeeded, then fired again');
    await until('the third incident escalated', async () => {
      const { rows } = await w.env.db.query(
        `SELECT 1 FROM ${w.env.schema}.vigil_incident_transitions WHERE incident_id = $1 AND kind = 'escalated'`,
        [third.id],
      );
      return rows.length === 1;
    });
    await quietPeriod();
    // Nothing ran on the third round: its zombies are still there.
    const { rows: left } = await w.tasks.db.query(
      `SELECT count(*)::int AS n FROM ${w.tasks.table} WHERE status = 'processing' AND updated_at < now() - interval '5 minutes'`,
    );
    expect(left[0]!.n).toBe(2);
    expect(await runsOf(w.env)).toHaveLength(3);
    expect(replies(w.env, 'switch it on again')).toHaveLength(1);
  });
});
