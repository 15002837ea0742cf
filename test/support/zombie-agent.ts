import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { DATABASE_URL, createTestEnv, type TestEnv } from './env.js';
import { remediationConfig, rulesDir } from './remediation-world.js';
import { createZombieWorld } from './zombie-tasks.js';

export const signingSecret = 'test-signing-secret-0123456789';

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
  every: 1s
  timeout: 900ms
  query: >-
    SELECT count(*) FROM ${table} WHERE status = 'processing'
      AND (COALESCE(attempts, 0) >= 3 OR updated_at IS NULL OR updated_at < now() - interval '5 minutes')
  expect: { max: 0 }
  labels: { service: helix-tasks }
groupBy: [service]
condition: { kind: consecutive, count: 1, resolveAfter: 1 }
remediate:
  - target: helix-tasks
    verify: { after: 0s, within: 5s }
${entry}
`;

/**
 * A test world whose agent watches a real tasks table for zombies and fixes them: 3 stuck tasks
 * (`stuck`) and 2 healthy ones in processing. `entry` adds lines to the rule's remediate entry
 * (indented 4 spaces); `extra` to vigil.yaml's remediation. Clean up with `close()`.
 */
export async function zombieAgent(
  opts: {
    entry?: string;
    extra?: Record<string, unknown>;
    beforeStart?: (env: TestEnv) => Promise<void>;
  } = {},
) {
  const env = await createTestEnv();
  const tasks = await createZombieWorld();
  const rules = rulesDir({ 'zombie-tasks.yaml': zombieRule(tasks.table, opts.entry ?? '    cooldown: 0s') });
  const close = async () => {
    await env.cleanup();
    await tasks.close();
    rules.remove();
  };
  const stuck = await tasks.add(3, 'processing', 1, null, 30);
  const healthy = await tasks.add(2, 'processing', 1, null, 0);
  const cfg = env.config({
    rules: { dir: rules.dir, vars: {} },
    slack: { token: 'xoxb-test', apiUrl: env.slack.url, channel: 'C0ALERTS', timeout: '2s', signingSecret },
    ...remediationConfig(
      {
        'helix-tasks': { action: 'fix-zombie-tasks', url: DATABASE_URL, table: tasks.table, stuckFor: '5m' },
      },
      opts.extra,
    ),
  });
  await opts.beforeStart?.(env);
  const agent = env.agent(cfg);
  await agent.start();
  env.slack.interactivity({ requestUrl: `${agent.httpUrl}/slack/interactions`, signingSecret });
  const statusOf = async (ids: readonly string[]) =>
    (
      await tasks.db.query<{ status: string }>(
        `SELECT status FROM ${tasks.table} WHERE id = ANY($1) ORDER BY id`,
        [ids],
      )
    ).rows.map((r) => r.status);
  const incidents = async () =>
    (
      await env.db.query<{ id: string; state: string }>(
        `SELECT id, state FROM ${env.schema}.vigil_incidents ORDER BY id`,
      )
    ).rows;
  return { env, tasks, stuck, healthy, agent, statusOf, incidents, close };
}

export type ZombieAgent = Awaited<ReturnType<typeof zombieAgent>>;

/** The ts of a posted Slack message, to press its buttons. */
export const tsOf = (call: SlackCall) => String((call.response as { ts?: string } | undefined)?.ts ?? '');
