import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { DATABASE_URL, createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';
import { remediationConfig, replies, rulesDir, runsOf, stepsOf } from '../support/remediation-world.js';
import { createZombieWorld } from '../support/zombie-tasks.js';

let env: TestEnv | undefined;
let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const signingSecret = 'test-signing-secret-0123456789';

/** The shipped zombie-tasks rule, fast, remediated by fix-zombie-tasks on `helix-tasks`. */
const zombieRule = (table: string, entry: string) => `
id: zombie-tasks
title: HELIX has zombie tasks
category: business
severity: high
ackSla: 10m
probe:
  kind: sql
  name: helix-zombie-tasks
  url: ${DATABASE_URL}
  every: 300ms
  timeout: 250ms
  query: >-
    SELECT count(*) FROM ${table} WHERE status = 'processing'
      AND (COALESCE(attempts, 0) >= 3 OR updated_at IS NULL OR updated_at < now() - interval '5 minutes')
  expect: { max: 0 }
  labels: { service: helix-tasks }
groupBy: [service]
condition: { kind: consecutive, count: 1, resolveAfter: 1 }
remediate:
  - target: helix-tasks
    cooldown: 0s
    verify: { after: 0s, within: 5s }
${entry}
`;

async function zombieAgent(entry = '', extra: Record<string, unknown> = {}) {
  env = await createTestEnv();
  const tasks = await createZombieWorld();
  cleanups.push(() => tasks.close());
  const rules = rulesDir({ 'zombie-tasks.yaml': zombieRule(tasks.table, entry) });
  cleanups.push(() => rules.remove());
  const stuck = await tasks.add(3, 'processing', 1, null, 30);
  const healthy = await tasks.add(2, 'processing', 1, null, 0);
  const cfg = env.config({
    rules: { dir: rules.dir, vars: {} },
    slack: { token: 'xoxb-test', apiUrl: env.slack.url, channel: 'C0ALERTS', timeout: '2s', signingSecret },
    ...remediationConfig(
      {
        'helix-tasks': { action: 'fix-zombie-tasks', url: DATABASE_URL, table: tasks.table, stuckFor: '5m' },
      },
      extra,
    ),
  });
  const agent = env.agent(cfg);
  await agent.start();
  env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
  return { env, tasks, stuck, healthy, agent };
}

const tsOf = (call: SlackCall) => String((call.response as { ts?: string } | undefined)?.ts ?? '');

const statusOf = async (w: Awaited<ReturnType<typeof zombieAgent>>, ids: readonly string[]) =>
  (
    await w.tasks.db.query<{ status: string }>(
      `SELECT status FROM ${w.tasks.table} WHERE id = ANY($1) ORDER BY id`,
      [ids],
    )
  ).rows.map((r) => r.status);

describe('the remediation runner in an agent', () => {
  it('fixes the zombies its rule found, verifies with the probe, says so in the thread, and runs once', async () => {
    const w = await zombieAgent();
    await until('the run succeeded', async () => (await runsOf(w.env))[0]?.state === 'succeeded', 15_000);
    expect(await statusOf(w, w.stuck)).toEqual(['pending', 'pending', 'pending']);
    expect(await statusOf(w, w.healthy)).toEqual(['processing', 'processing']);
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
    const w = await zombieAgent('', { dryRun: true });
    await until('the dry run is recorded', async () => (await runsOf(w.env))[0]?.state === 'dry-run');
    await w.env.slack.waitFor((c) => replies(w.env, 'dry-run: dry run: would run').includes(c));
    await quietPeriod();
    expect(await statusOf(w, w.stuck)).toEqual(['processing', 'processing', 'processing']);
    expect(await runsOf(w.env)).toHaveLength(1);
  });

  it('asks for approval in Slack and runs only once a signed Approve arrives', async () => {
    const w = await zombieAgent('    approval: true');
    await until('waiting for approval', async () => (await runsOf(w.env))[0]?.state === 'awaiting-approval');
    const ask = await w.env.slack.waitFor((c) => replies(w.env, 'waits for approval').includes(c));
    await quietPeriod();
    expect(await statusOf(w, w.stuck)).toEqual(['processing', 'processing', 'processing']);
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
    expect(await statusOf(w, w.stuck)).toEqual(['pending', 'pending', 'pending']);
    await w.env.slack.waitFor((c) => replies(w.env, 'approved by alice').includes(c));
  });

  it('a rejected run never runs', async () => {
    const w = await zombieAgent('    approval: true');
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
    expect(await statusOf(w, w.stuck)).toEqual(['processing', 'processing', 'processing']);
    expect(await runsOf(w.env)).toHaveLength(1);
  });
});
