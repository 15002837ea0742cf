import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, DATABASE_URL, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';
import { startTcpProxy, through, type TcpProxy } from '../support/tcp-proxy.js';

const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200 && !c.args.thread_ts;

let env: TestEnv | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await env?.cleanup();
  await proxy?.close();
  env = proxy = undefined;
});

/** Delivery timings scaled down so an outage "longer than any retry budget" lasts seconds. */
const fast = { backoff: '20ms', maxBackoff: '200ms', sweepEvery: '50ms', recheckEvery: '200ms' } as const;

/** Jobs failed for good on the queues an alert crosses. */
async function failedJobs(env: TestEnv): Promise<number> {
  let failed = 0;
  for (const name of ['notify-slack', 'notify-email', 'events']) {
    const q = new Queue(name, { connection: env.redis, prefix: env.prefix });
    failed += (await q.getJobCounts('failed')).failed ?? 0;
    await q.close();
  }
  return failed;
}

describe('delivery outlives outages: owed notifications go out once the channel is back', () => {
  it('Slack answering 500 and SMTP 451 for longer than the old attempt budget: the alert arrives once afterwards', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const world = env;
    world.slack.failNext(1_000_000, { status: 500 });
    world.smtp.failNext(1_000_000, { code: 451, message: 'try again later' });
    const agent = world.agent(world.config({ notify: { ...fast, fallbackAfter: '1s' } }));
    await agent.start();
    world.helix.setHealthy(false);

    // The old code gave up after 8 attempts; this outage lasts 20+ attempts and 3 s at these timings.
    const first = await world.slack.waitFor((c) => c.status === 500);
    await world.slack.waitFor(
      (c) =>
        c.status === 500 &&
        c.hr - first.hr >= 3000 &&
        world.slack.calls.filter((x) => x.status === 500).length >= 20,
      { timeoutMs: 20_000 },
    );
    expect(world.smtp.rejected.length).toBeGreaterThanOrEqual(8);
    // Owed longer than fallbackAfter: /healthz says what waits, where, and why.
    const health = await fetch(`${agent.httpUrl}/healthz`);
    expect(health.status).toBe(503);
    const owed = ((await health.json()) as { problems: Record<string, string> }).problems['notify.owed'];
    expect(owed).toMatch(
      /owed on slack, oldest \d+s \(last error: Slack chat\.postMessage failed: HTTP 500\)/,
    );
    expect(owed).toMatch(/owed on email, oldest \d+s \(last error: .*451/);

    world.slack.reset();
    world.smtp.reset();
    await world.slack.waitFor(isPost, { timeoutMs: 10_000 });
    await world.smtp.waitFor((m) => /CRITICAL/.test(m.subject), { timeoutMs: 10_000 });
    await quietPeriod();
    expect(world.slack.calls.filter(isPost)).toHaveLength(1);
    expect(world.smtp.messages.filter((m) => /CRITICAL/.test(m.subject))).toHaveLength(1);
    await until('/healthz to be ok again', () => agent.health.ok);
    expect(await failedJobs(world)).toBe(0);
    const { rows } = await world.db.query(
      `SELECT state, count(*)::int AS n FROM ${world.schema}.vigil_deliveries GROUP BY state`,
    );
    expect(rows).toEqual([{ state: 'sent', n: 2 }]);
  });

  it('an escalation falls due while PostgreSQL is down: it goes out once PostgreSQL is back', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const world = env;
    const pgUrl = new URL(DATABASE_URL);
    proxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const agent = world.agent(
      world.config({
        database: { url: through(DATABASE_URL, proxy.port), schema: world.schema, poolSize: 4 },
        rules: {
          dir: 'test/fixtures/rules-sla-2s',
          vars: world.config().rules.vars,
        },
        notify: fast,
      }),
    );
    await agent.start();
    world.helix.setHealthy(false);
    const posted = await world.slack.waitFor(isPost);
    const ts = (posted.response as { ts: string }).ts;
    const [opened] = (await world.db.query(`SELECT escalate_at FROM ${world.schema}.vigil_incidents`)).rows;

    proxy.cut();
    // Down from before the ack SLA until well after it (and after any retry budget the old job had).
    await proxy.refused(3);
    const dueIn = (opened.escalate_at as Date).getTime() - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueIn) + 2500));
    expect(world.slack.calls.filter((c) => c.args.thread_ts === ts)).toHaveLength(0);
    proxy.restore();

    const reply = await world.slack.waitFor(
      (c) => c.method === 'chat.postMessage' && c.status === 200 && c.args.thread_ts === ts,
      { timeoutMs: 15_000 },
    );
    expect(JSON.stringify(reply.args)).toMatch(/escalat/i);
    await world.smtp.waitFor((m) => /escalated/i.test(m.text));
    await quietPeriod();
    expect(
      world.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === ts),
    ).toHaveLength(1);
    expect(world.smtp.messages.filter((m) => /escalated/i.test(m.text))).toHaveLength(1);
    const { rows } = await world.db.query(
      `SELECT kind FROM ${world.schema}.vigil_incident_transitions ORDER BY seq`,
    );
    expect(rows.map((r) => r.kind)).toEqual(['opened', 'escalated']);
  });
});

describe('a channel that fails for good hands its alerts to the other channel', () => {
  it('Slack refusing the channel (channel_not_found): the alert arrives by email with a note, once; Slack gets it when fixed', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const world = env;
    world.slack.failNext(1_000_000, { error: 'channel_not_found' });
    const agent = world.agent(
      world.config({
        rules: {
          dir: 'test/fixtures/rules-slack-only',
          vars: world.config().rules.vars,
        },
        notify: fast,
      }),
    );
    await agent.start();
    world.helix.setHealthy(false);

    const mail = await world.smtp.waitFor(() => true, { timeoutMs: 10_000 });
    expect(mail.text).toMatch(
      /^Slack failing since \d\d:\d\d UTC \(Slack chat\.postMessage rejected: channel_not_found\) — sent by email$/m,
    );
    expect(mail.subject).toMatch(/CRITICAL/);
    const health = await fetch(`${agent.httpUrl}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { problems: Record<string, string> };
    expect(body.problems['channel.slack']).toMatch(/^failed since .*channel_not_found/);
    expect(await agent.metrics.render()).toMatch(/^vigil_channel_up\{channel="slack"\} 0$/m);
    await quietPeriod();
    expect(world.smtp.messages).toHaveLength(1);
    const { rows } = await world.db.query(
      `SELECT channel, state, fallback_from, handed_over FROM ${world.schema}.vigil_deliveries ORDER BY channel`,
    );
    expect(rows).toEqual([
      { channel: 'email', state: 'sent', fallback_from: 'slack', handed_over: false },
      { channel: 'slack', state: 'owed', fallback_from: null, handed_over: true },
    ]);

    // Fixed: the next check passes, and Slack gets what it owed — once.
    world.slack.reset();
    await world.slack.waitFor(isPost, { timeoutMs: 10_000 });
    await quietPeriod();
    expect(world.slack.calls.filter(isPost)).toHaveLength(1);
    expect(world.smtp.messages).toHaveLength(1);
    expect(agent.health.problems()['channel.slack']).toBeUndefined();
  });

  it('a wrong Slack token is found at start, not with the first alert: that alert goes by email', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const world = env;
    const config = world.config({
      slack: { token: 'not-a-bot-token', apiUrl: world.slack.url, channel: 'C0ALERTS', timeout: '2s' },
      rules: {
        dir: 'test/fixtures/rules-slack-only',
        vars: world.config().rules.vars,
      },
      notify: fast,
    });
    const agent = world.agent(config);
    await agent.start();
    expect(agent.health.problems()['channel.slack']).toMatch(/invalid_auth/);
    world.helix.setHealthy(false);
    const mail = await world.smtp.waitFor(() => true, { timeoutMs: 10_000 });
    expect(mail.text).toMatch(/Slack failing since .*invalid_auth.* — sent by email/);
    await quietPeriod();
    expect(world.smtp.messages).toHaveLength(1);
    // Slack is only tried again once per recheck period (one trial delivery), never per alert.
    const tries = world.slack.calls.filter((c) => c.method === 'chat.postMessage');
    expect(tries.every((c) => (c.response as { error?: string }).error === 'invalid_auth')).toBe(true);
    tries.slice(1).forEach((c, k) => expect(c.hr - tries[k]!.hr).toBeGreaterThan(150));
  });
});
