import { afterEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../src/demo/slack-emulator.js';
import { createTestEnv, DATABASE_URL, REDIS_URL, type TestEnv } from '../support/env.js';
import { startTcpProxy, through, type TcpProxy } from '../support/tcp-proxy.js';

const isPost = (c: SlackCall) => c.method === 'chat.postMessage' && c.status === 200;

let env: TestEnv | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await env?.cleanup();
  await proxy?.close();
  env = proxy = undefined;
});

describe('riding out dependency outages: nothing lost, nothing duplicated', () => {
  it('PostgreSQL down while an incident opens: the batch is retried and the alert goes out once', async () => {
    const world = await createTestEnv({ healthEvery: '150ms' });
    env = world;
    const pgUrl = new URL(DATABASE_URL);
    proxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    const agent = world.agent(
      world.config({
        database: { url: through(DATABASE_URL, proxy.port), schema: world.schema, poolSize: 4 },
      }),
    );
    await agent.start();
    await world.helix.waitForRequests(2, (r) => r.healthy);

    proxy.cut();
    world.helix.setHealthy(false);
    // The third failure is evaluated while PostgreSQL is away: the engine keeps trying to connect.
    await world.helix.waitForRequests(3, (r) => !r.healthy);
    await proxy.refused(3);
    expect(world.slack.calls.filter(isPost)).toHaveLength(0);

    proxy.restore();
    await world.slack.waitFor(isPost, { timeoutMs: 20_000 });
    await world.smtp.waitFor((m) => /CRITICAL/.test(m.subject), { timeoutMs: 20_000 });
    world.helix.setHealthy(true);
    await world.slack.waitFor((c) => c.method === 'chat.update' && c.status === 200, { timeoutMs: 20_000 });

    const { rows } = await world.db.query(`SELECT state FROM ${world.schema}.vigil_incidents`);
    expect(rows).toEqual([{ state: 'resolved' }]);
    expect(world.slack.calls.filter(isPost)).toHaveLength(1);
    expect(world.smtp.messages.filter((m) => /CRITICAL/.test(m.subject))).toHaveLength(1);
  });

  it('Redis down: probes pause, the agent reconnects by itself and alerts once when it is back', async () => {
    const world = await createTestEnv({ healthEvery: '150ms' });
    env = world;
    const redisUrl = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    const agent = world.agent(
      world.config({ redis: { url: through(REDIS_URL, proxy.port), prefix: world.prefix } }),
    );
    await agent.start();
    await world.helix.waitForRequests(2, (r) => r.healthy);

    proxy.cut();
    world.helix.setHealthy(false);
    await proxy.refused(3);
    const health = await fetch(`${agent.httpUrl}/healthz`);
    expect(health.status).toBe(503);
    expect(world.slack.calls.filter(isPost)).toHaveLength(0);

    proxy.restore();
    await world.slack.waitFor(isPost, { timeoutMs: 20_000 });
    expect((await fetch(`${agent.httpUrl}/healthz`)).status).toBe(200);
    world.helix.setHealthy(true);
    await world.slack.waitFor((c) => c.method === 'chat.update' && c.status === 200, { timeoutMs: 20_000 });
    expect(world.slack.calls.filter(isPost)).toHaveLength(1);
    const { rows } = await world.db.query(`SELECT state FROM ${world.schema}.vigil_incidents`);
    expect(rows).toEqual([{ state: 'resolved' }]);
  });
});
