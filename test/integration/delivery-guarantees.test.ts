import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import type { Agent } from '../../src/agent.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';
import { createLogger } from '../../src/log.js';
import { createChannels } from '../../src/notify/registry.js';

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

  it('a storm that nobody acknowledges escalates in one page for the digest, the first ones alone; each once', async () => {
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
    const ok = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200;
    const escalatedOnSlack = () => [
      ...world.slack.calls
        .filter((c) => ok(c) && payload(c).kind === 'escalated')
        .map((c) => String(payload(c).incident)),
      ...world.slack.calls
        .filter((c) => ok(c) && typeof payload(c).escalated === 'string')
        .flatMap((c) => String(payload(c).escalated).split(',')),
    ];
    await world.slack.waitFor(() => escalatedOnSlack().length >= 5, { timeoutMs: 15_000 });
    const mailed = () => [
      ...world.smtp.messages
        .filter((m) => m.headers.get('x-vigil-kind') === 'escalated')
        .map((m) => String(m.headers.get('x-vigil-incident'))),
      ...world.smtp.messages
        .filter((m) => m.headers.get('x-vigil-digest'))
        .flatMap((m) => {
          const section = m.text.split('Escalated (not acknowledged within the ack SLA):')[1] ?? '';
          return [...section.matchAll(/ #(\d+) /g)].map((x) => x[1]!);
        }),
    ];
    await world.smtp.waitFor(() => mailed().length >= 5);
    await quietPeriod();
    const { rows } = await world.db.query<{ id: string }>(`SELECT id FROM ${world.schema}.vigil_incidents`);
    const ids = rows.map((r) => r.id).sort();
    expect(escalatedOnSlack().sort()).toEqual(ids);
    expect(mailed().sort()).toEqual(ids);
    // Two alone (the first two of the storm), three in one reply on the digest.
    const pages = world.slack.calls.filter(
      (c) => ok(c) && (payload(c).kind === 'escalated' || payload(c).escalated),
    );
    expect(pages).toHaveLength(3);
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

describe('rows no agent can send', () => {
  it('a channel no agent serves gets no jobs piling up; /healthz says what waits, once it waits too long', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const world = env;
    // The config routes to Slack and email; this agent (the only one) delivers on Slack alone.
    const cfg = world.config({ notify: { sweepEvery: '100ms', leaseFor: '300ms', fallbackAfter: '1s' } });
    const channels = createChannels(cfg, createLogger({ level: 'silent' }));
    channels.delete('email');
    const agent = world.agent(cfg, { channels });
    await agent.start();
    world.helix.setHealthy(false);
    await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
    await until('the owed email to be reported', () => agent.health.problems()['notify.owed'] !== undefined);
    expect(agent.health.problems()['notify.owed']).toMatch(/1 owed on email/);
    // Several lease periods later: still the one job the evaluation added, not one per lapse.
    await quietPeriod(1500);
    const emailQueue = new Queue('notify-email', { connection: world.redis, prefix: world.prefix });
    expect(await emailQueue.getWaitingCount()).toBe(1);
    await emailQueue.close();
  });
});

describe('upgrading from the agent that kept escalations in a queue', () => {
  it('an incident opened by the old agent escalates once; one it escalated already is left alone', async () => {
    env = await createTestEnv();
    const world = env;
    const pool = createPool({ url: world.config().database.url, schema: world.schema, poolSize: 1 });
    try {
      await migrate(pool, world.schema);
      const open = (fp: string) =>
        pool.query<{ id: string }>(
          `INSERT INTO vigil_incidents (fingerprint, rule_id, title, category, severity, state, started_at, ack_sla_ms)
           VALUES ($1, 'api-health', 'HELIX API health check fails', 'availability', 'critical', 'firing',
             now() - interval '10 minutes', 300000) RETURNING id`,
          [fp],
        );
      await open('api-health{a}');
      const done = (await open('api-health{b}')).rows[0]!.id;
      await pool.query(`UPDATE vigil_incidents SET seq = 2, escalate_at = now() WHERE id = $1;`, [done]);
      await pool.query(
        `INSERT INTO vigil_incident_transitions (incident_id, seq, from_state, to_state, kind, actor)
         VALUES ($1, 2, 'firing', 'firing', 'escalated', 'old-agent')`,
        [done],
      );
    } finally {
      await pool.end();
    }
    const agent = world.agent(world.config({ notify: { sweepEvery: '100ms' } }));
    await agent.start();
    await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
    await quietPeriod();
    const { rows } = await world.db.query<{ fingerprint: string; n: number }>(
      `SELECT i.fingerprint, count(*)::int AS n FROM ${world.schema}.vigil_incident_transitions t
       JOIN ${world.schema}.vigil_incidents i ON i.id = t.incident_id WHERE t.kind = 'escalated'
       GROUP BY i.fingerprint ORDER BY 1`,
    );
    expect(rows).toEqual([
      { fingerprint: 'api-health{a}', n: 1 },
      { fingerprint: 'api-health{b}', n: 1 },
    ]);
  });
});
