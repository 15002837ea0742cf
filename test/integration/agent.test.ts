import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { DependencyError } from '../../src/errors.js';
import { checkRedis } from '../../src/queues/connection.js';
import { startFakeRedis } from '../support/fake-redis.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

describe('Agent lifecycle and operator surface', () => {
  it('serves /healthz and /metrics that reflect what it did', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const agent = env.agent();
    await agent.start();
    const health = await fetch(`${agent.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });

    env.helix.setHealthy(false);
    await env.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
    await env.smtp.waitFor(() => true);
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(metrics).toContain('# TYPE vigil_incidents_opened_total counter');
    expect(metrics).toMatch(/^vigil_incidents_opened_total\{rule="api-health"\} 1$/m);
    expect(metrics).toMatch(/^vigil_notifications_total\{channel="slack",kind="opened"\} 1$/m);
    expect(metrics).toMatch(/^vigil_events_total \d+$/m);
  });

  it('a malformed events job fails for good at once, is counted, and other work goes on', async () => {
    env = await createTestEnv({ healthEvery: '150ms' });
    const agent = env.agent();
    await agent.start();
    const events = new Queue('events', { connection: env.redis, prefix: env.prefix });
    try {
      const bad = await events.add('batch', { evnts: 'not a list' } as never);
      const badEvent = await events.add('batch', { events: [{ id: 'x', source: 'probe' }] });
      env.helix.setHealthy(false);
      await env.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
      expect(await (await events.getJob(bad.id!))!.getState()).toBe('failed');
      expect((await events.getJob(bad.id!))!.attemptsMade).toBe(1);
      // The job with one bad event completes: the event alone was rejected.
      expect(await (await events.getJob(badEvent.id!))!.getState()).toBe('completed');
      const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/^vigil_events_rejected_total\{reason="batch"\} 1$/m);
      expect(metrics).toMatch(/^vigil_events_rejected_total\{reason="schema"\} 1$/m);
    } finally {
      await events.close();
    }
  });

  it('a start that fails half-way (HTTP port taken) releases every connection it opened', async () => {
    env = await createTestEnv();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const agent = env.agent(env.config({ http: { host: '127.0.0.1', port } }));
      await expect(agent.start()).rejects.toThrow(/HTTP port \d+ on 127.0.0.1 is already in use/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // cleanup() fails the test if a Redis or PostgreSQL connection of the agent is still open.
  });

  it('schedules each probe once, its spec in the template, and leaves schedulers it does not know', async () => {
    env = await createTestEnv();
    const queue = new Queue('probes', { connection: env.redis, prefix: env.prefix });
    try {
      await queue.upsertJobScheduler(
        'probe-retired',
        { every: 60_000 },
        { name: 'probe', data: { probe: 'retired' } },
      );
      const agent = env.agent();
      await agent.start();
      const schedulers = await queue.getJobSchedulers();
      // Another agent (an older or newer rule set) may own it: only `vigil probes prune` removes it.
      expect(schedulers.map((s) => s.key).sort()).toEqual(['probe-helix-api-health', 'probe-retired']);
      const health = schedulers.find((s) => s.key === 'probe-helix-api-health')!;
      expect(health.every).toBe(200);
      expect(health.template?.data).toMatchObject({
        probe: 'helix-api-health',
        spec: { kind: 'http', name: 'helix-api-health', every: 200, timeout: 100 },
      });
    } finally {
      await queue.close();
    }
  });

  it('refuses a Redis that may evict queued alerts, naming the policy and the fix', async () => {
    const fake = await startFakeRedis('allkeys-lru');
    try {
      const err = await checkRedis(fake.url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DependencyError);
      expect((err as DependencyError).code).toBe('E_REDIS_EVICTION');
      expect((err as DependencyError).message).toContain('maxmemory-policy=allkeys-lru');
      const port = new URL(fake.url).port;
      expect((err as DependencyError).hint).toContain(
        `redis-cli -h 127.0.0.1 -p ${port} CONFIG SET maxmemory-policy noeviction`,
      );
    } finally {
      await fake.close();
    }
  });
});
