import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { Metrics } from '../../src/metrics.js';
import { createRedis } from '../../src/queues/connection.js';
import { registerQueueMetrics } from '../../src/queues/queue-metrics.js';
import { captureLogs, duplicateKeys, type LogCapture } from '../support/log-capture.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';
import { startTcpProxy, through, type TcpProxy } from '../support/tcp-proxy.js';

const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200;

let env: TestEnv | undefined;
let proxy: TcpProxy | undefined;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await env?.cleanup();
  await proxy?.close();
  env = proxy = undefined;
});

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function expectNoDuplicateKeys(logs: LogCapture) {
  expect(logs.lines.length).toBeGreaterThan(0);
  expect(logs.lines.map(duplicateKeys).filter(Boolean)).toEqual([]);
}

describe('queue gauges, read at scrape time', () => {
  it('count jobs by state and age the oldest waiting job, for every queue', async () => {
    env = await createTestEnv();
    const events = new Queue('events', { connection: env.redis, prefix: env.prefix });
    const slack = new Queue('notify-slack', { connection: env.redis, prefix: env.prefix });
    closers.push(
      () => events.close(),
      () => slack.close(),
    );
    await events.add('batch', { events: [] }, { timestamp: Date.now() - 90_000 });
    await events.add('batch', { events: [] });
    await events.add('batch', { events: [] }, { delay: 60_000 });
    const metrics = new Metrics();
    registerQueueMetrics(metrics, [events, slack]);

    const text = await metrics.render();
    expect(text).toContain('# TYPE vigil_queue_jobs gauge');
    expect(text).toContain('# HELP vigil_queue_oldest_job_age_seconds');
    expect(sample(text, 'vigil_queue_jobs{queue="events",state="waiting"}')).toBe(2);
    expect(sample(text, 'vigil_queue_jobs{queue="events",state="delayed"}')).toBe(1);
    expect(sample(text, 'vigil_queue_jobs{queue="events",state="failed"}')).toBe(0);
    const age = sample(text, 'vigil_queue_oldest_job_age_seconds{queue="events"}');
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(120);
    expect(sample(text, 'vigil_queue_jobs{queue="notify-slack",state="waiting"}')).toBe(0);
    expect(sample(text, 'vigil_queue_oldest_job_age_seconds{queue="notify-slack"}')).toBe(0);
  });

  it('a Redis that does not answer cannot hang /metrics: its gauges read NaN', async () => {
    env = await createTestEnv();
    const target = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const conn = createRedis(through(REDIS_URL, proxy.port), 'client', env.prefix);
    const queue = new Queue('events', { connection: conn, prefix: env.prefix });
    // The cut is the point of the test: its connection errors are expected, not news for stderr.
    queue.on('error', () => undefined);
    closers.push(async () => {
      await queue.close();
      conn.disconnect();
    });
    const metrics = new Metrics({ readTimeoutMs: 300 });
    registerQueueMetrics(metrics, [queue]);
    expect(sample(await metrics.render(), 'vigil_queue_jobs{queue="events",state="waiting"}')).toBe(0);

    proxy.cut();
    await proxy.refused(1);
    const text = await metrics.render();
    expect(sample(text, 'vigil_queue_jobs{queue="events",state="waiting"}')).toBeNaN();
    expect(sample(text, 'vigil_queue_oldest_job_age_seconds{queue="events"}')).toBeNaN();
  });
});

describe('the running agent tells what is wrong', () => {
  it('/metrics counts open incidents by severity and shows every queue; logs have no duplicate keys', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const logs = captureLogs('debug');
    const agent = env.agent(undefined, { log: logs.log });
    await agent.start();
    env.helix.setHealthy(false);
    await env.slack.waitFor(isPost);
    let text = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(sample(text, 'vigil_incidents_open{severity="critical"}')).toBe(1);
    expect(sample(text, 'vigil_incidents_open{severity="warning"}')).toBe(0);
    for (const queue of ['events', 'probes', 'notify-slack', 'notify-email']) {
      expect(sample(text, `vigil_queue_jobs{queue="${queue}",state="failed"}`)).toBe(0);
    }

    env.helix.setHealthy(true);
    await env.slack.waitFor((c) => c.method === 'chat.update' && c.status === 200);
    text = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(sample(text, 'vigil_incidents_open{severity="critical"}')).toBe(0);
    await agent.close();
    expectNoDuplicateKeys(logs);
  });

  it('/healthz is 503 degraded with the reasons components report, 200 again once they clear', async () => {
    env = await createTestEnv();
    const agent = env.agent();
    await agent.start();
    agent.health.set('slack', 'invalid_auth since 10:02: alerts go by email');
    const res = await fetch(`${agent.httpUrl}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'degraded',
      agent: agent.agentId,
      checks: { postgres: 'ok', redis: 'ok' },
      problems: { slack: 'invalid_auth since 10:02: alerts go by email' },
    });
    agent.health.set('slack', undefined);
    expect((await fetch(`${agent.httpUrl}/healthz`)).status).toBe(200);
  });
});

describe('connection errors are counted, and logged once per outage', () => {
  const lost = (dependency: string) => (r: Record<string, unknown>) =>
    r.dependency === dependency && /^lost connection/.test(String(r.msg));
  const back = (dependency: string) => (r: Record<string, unknown>) =>
    r.dependency === dependency && /is back$/.test(String(r.msg));

  // With a remediation target the agent has one more worker, on its own connection: it must come back too.
  it.each([
    ['', {}],
    [' (with the remediation worker)', { targets: { t: { action: 'run-command', program: '/bin/true' } } }],
  ])(
    'Redis: one warning when it goes, one line when it is back, every error counted%s',
    async (_, remediation) => {
      const world = await createTestEnv({ healthEvery: '150ms' });
      env = world;
      const target = new URL(REDIS_URL);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
      const logs = captureLogs('info');
      const url = through(REDIS_URL, proxy.port);
      const agent = world.agent(world.config({ redis: { url, prefix: world.prefix }, remediation }), {
        log: logs.log,
      });
      await agent.start();

      proxy.cut();
      // Every connection of the agent retries: 30 refusals are several attempts each.
      await proxy.refused(30);
      proxy.restore();
      const recovered = await logs.waitFor(back('redis'));

      const warnings = logs.records().filter(lost('redis'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        level: 40,
        target: url,
        code: expect.stringMatching(/^E(CONN|PIPE)/),
      });
      expect(logs.records().filter(back('redis'))).toHaveLength(1);
      const counted = agent.metrics.value('vigil_connection_errors_total', { dependency: 'redis' });
      expect(counted).toBeGreaterThan(2);
      expect(recovered.errors).toBe(counted);
      expect(recovered.downMs).toBeGreaterThan(0);
      await agent.close();
      expectNoDuplicateKeys(logs);
    },
  );

  it('PostgreSQL: the same, with the password kept out of the log', async () => {
    const world = await createTestEnv({ healthEvery: '150ms' });
    env = world;
    const target = new URL(DATABASE_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const withPassword = new URL(through(DATABASE_URL, proxy.port));
    withPassword.password = 's3cret';
    const logs = captureLogs('info');
    const agent = world.agent(
      world.config({ database: { url: withPassword.toString(), schema: world.schema, poolSize: 4 } }),
      { log: logs.log },
    );
    await agent.start();
    await world.helix.waitForRequests(2);

    proxy.cut();
    // The probes keep evaluating: each batch tries PostgreSQL again and is refused.
    await proxy.refused(5);
    proxy.restore();
    await logs.waitFor(back('postgres'));

    const warnings = logs.records().filter(lost('postgres'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.target).toContain(':***@127.0.0.1');
    expect(logs.lines.join('\n')).not.toContain('s3cret');
    expect(logs.records().filter(back('postgres'))).toHaveLength(1);
    expect(agent.metrics.value('vigil_connection_errors_total', { dependency: 'postgres' })).toBeGreaterThan(
      1,
    );
    await agent.close();
    expectNoDuplicateKeys(logs);
  });
});
