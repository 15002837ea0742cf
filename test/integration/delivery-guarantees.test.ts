import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import type { Agent } from '../../src/agent.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod } from '../support/quiet.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** `n` targets of the storm rule failing at once: one incident each. */
async function storm(agent: Agent, n: number): Promise<void> {
  const at = new Date().toISOString();
  await Promise.all(
    Array.from({ length: n }, (_, k) =>
      agent.ingest({
        id: `s-${k}`,
        source: 'manual',
        name: 'storm-check',
        at,
        host: 'test',
        labels: { target: `t${k}` },
        ok: false,
      }),
    ),
  );
}

const payload = (c: SlackCall) =>
  (c.args.metadata as { event_payload?: Record<string, unknown> } | undefined)?.event_payload ?? {};

describe('no duplicate, no loss, at the edges of a delivery job', () => {
  it('a job sending for longer than its lease keeps it: every mail goes out once', async () => {
    env = await createTestEnv();
    const world = env;
    // 20 mails at 300 ms each, 4 at a time: the job runs well past its 1 s lease.
    world.smtp.replyAfter(300);
    const agent = world.agent(
      world.config({
        slack: undefined,
        rules: { dir: 'test/fixtures/rules-storm', vars: {} },
        notify: {
          concurrency: 4,
          leaseFor: '1s',
          sweepEvery: '100ms',
          digest: { threshold: 0, window: '1m' },
        },
      }),
    );
    await agent.start();
    await storm(agent, 20);
    await world.smtp.waitFor(() => world.smtp.messages.length >= 20, { timeoutMs: 20_000 });
    await quietPeriod(2000);
    const ids = world.smtp.messages.map((m) => String(m.headers.get('x-vigil-incident')));
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it('incidents told in a storm digest still page alone when they escalate, once each', async () => {
    env = await createTestEnv();
    const world = env;
    const agent = world.agent(
      world.config({
        rules: { dir: 'test/fixtures/rules-storm-sla', vars: {} },
        notify: { sweepEvery: '100ms', digest: { threshold: 2, window: '1m' } },
      }),
    );
    await agent.start();
    await storm(agent, 5);
    const escalatedOnSlack = () =>
      world.slack.calls.filter(
        (c) => c.method === 'chat.postMessage' && c.status === 200 && payload(c).kind === 'escalated',
      );
    await world.slack.waitFor(() => escalatedOnSlack().length >= 5, { timeoutMs: 15_000 });
    await world.smtp.waitFor(() => world.smtp.messages.filter((m) => /escalated/i.test(m.text)).length >= 5);
    await quietPeriod();
    const { rows } = await world.db.query<{ id: string }>(`SELECT id FROM ${world.schema}.vigil_incidents`);
    const ids = rows.map((r) => r.id).sort();
    expect(
      escalatedOnSlack()
        .map((c) => String(payload(c).incident))
        .sort(),
    ).toEqual(ids);
    const mails = world.smtp.messages.filter((m) => m.headers.get('x-vigil-kind') === 'escalated');
    expect(mails.map((m) => String(m.headers.get('x-vigil-incident'))).sort()).toEqual(ids);
    // Three of the five were told in the digest, not alone.
    const digests = world.slack.calls.filter((c) => c.status === 200 && payload(c).digest !== undefined);
    expect(digests.length).toBeGreaterThan(0);
  });

  it('a message Slack refuses for what it says goes by email with a note, once', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const world = env;
    world.slack.failNext(1, { error: 'invalid_blocks' });
    const agent = world.agent(
      world.config({
        rules: { dir: 'test/fixtures/rules-slack-only', vars: world.config().rules.vars },
        notify: { sweepEvery: '100ms' },
      }),
    );
    await agent.start();
    world.helix.setHealthy(false);
    const mail = await world.smtp.waitFor(() => true, { timeoutMs: 10_000 });
    expect(mail.text).toMatch(/^Slack refused this message — sent by email$/m);
    await quietPeriod();
    expect(world.smtp.messages).toHaveLength(1);
    expect(
      agent.metrics.value('vigil_notifications_failed_total', {
        channel: 'slack',
        reason: 'E_SLACK_REJECTED',
      }),
    ).toBe(1);
    // Refusing one message says nothing of the channel: it is not marked failed.
    expect(agent.health.problems()['channel.slack']).toBeUndefined();
  });
});

describe('upgrading from the job-per-notification agent', () => {
  it('notifications left in the old notify queue are owed again and go out once', async () => {
    env = await createTestEnv();
    const world = env;
    const pool = createPool({ url: world.config().database.url, schema: world.schema, poolSize: 1 });
    try {
      await migrate(pool, world.schema);
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO vigil_incidents (fingerprint, rule_id, title, category, severity, state, started_at, ack_sla_ms)
         VALUES ('api-health{}', 'api-health', 'HELIX API health check fails', 'availability', 'critical', 'firing', now(), 300000)
         RETURNING id`,
      );
      const id = rows[0]!.id;
      const legacy = new Queue('notify', { connection: world.redis, prefix: world.prefix });
      await legacy.add(
        'opened',
        { incidentId: id, seq: 1, kind: 'opened', channel: 'slack' },
        { jobId: `n-${id}-1-slack` },
      );
      await legacy.add(
        'opened',
        { incidentId: id, seq: 1, kind: 'opened', channel: 'email' },
        { jobId: `n-${id}-1-email` },
      );
      await legacy.close();
    } finally {
      await pool.end();
    }
    const agent = world.agent(world.config({ notify: { sweepEvery: '100ms' } }));
    await agent.start();
    await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
    await world.smtp.waitFor(() => true);
    await quietPeriod();
    expect(world.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200)).toHaveLength(
      1,
    );
    expect(world.smtp.messages).toHaveLength(1);
    const left = new (await import('bullmq')).Queue('notify', {
      connection: world.redis,
      prefix: world.prefix,
    });
    expect(await left.count()).toBe(0);
    await left.close();
  });
});
