import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent.js';
import { hrNow } from '../../src/demo/records.js';
import { startHelixSim, type HelixSim } from '../../src/demo/helix-sim.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { until } from '../support/quiet.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';

let env: TestEnv | undefined;
let own: OwnRedis | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await env?.cleanup();
  await own?.close();
  for (const c of cleanups.splice(0)) await c();
  env = own = undefined;
});

const EVERY = 1000;

/** /healthz until `accept` says yes; the state it waits for is short-lived, so look often. */
async function healthzUntil(
  agent: Agent,
  accept: (status: number, body: string) => boolean,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    const res = await fetch(`${agent.httpUrl}/healthz`);
    last = `${res.status} ${await res.text()}`;
    if (accept(res.status, last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`/healthz never got there; last answer: ${last}`);
}

async function agentOnOwnRedis(): Promise<{ world: TestEnv; agent: Agent; degraded: string[] }> {
  own = await startOwnRedis();
  const world = await createTestEnv({ healthEvery: `${EVERY}ms` });
  env = world;
  const agent = world.agent(
    world.config({
      redis: { url: own.url, prefix: world.prefix },
      sources: [{ kind: 'probes', reassertEvery: '250ms' }],
    }),
  );
  // Every reason /healthz gave for probes, as it changed: the degraded spell after a fault can be
  // shorter than one look at /healthz takes on a busy machine.
  const degraded: string[] = [];
  agent.health.on('change', (component, problem) => {
    if (component === 'probes' && problem) degraded.push(problem);
  });
  await agent.start();
  await world.helix.waitForRequests(2);
  return { world, agent, degraded };
}

/**
 * After a fault at `faultAt`: /healthz names the lost schedule, probes run again within two
 * intervals and keep running, and /healthz is healthy again once the re-created schedule ran.
 */
async function expectHealed(
  { world, agent, degraded }: { world: TestEnv; agent: Agent; degraded: string[] },
  faultAt: number,
): Promise<void> {
  await until('/healthz to name the lost schedule', () => degraded.length > 0);
  expect(degraded[0]).toMatch(/schedules of probes helix-api-health had gone missing/);
  const detectedAt = hrNow();
  const after = await world.helix.waitForRequests(2, (r) => r.at > detectedAt, { timeoutMs: 4 * EVERY });
  expect(after[0]!.at - faultAt).toBeLessThanOrEqual(2 * EVERY);
  await healthzUntil(agent, (status) => status === 200);
  // The pipeline behind the probe works too: a failing target still alerts.
  world.helix.setHealthy(false);
  await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200, {
    timeoutMs: 10 * EVERY,
  });
}

describe('probe schedules heal themselves', () => {
  it('Redis flushed under a running agent: probes resume within two intervals', async () => {
    const setup = await agentOnOwnRedis();
    await own!.flushAll();
    await expectHealed(setup, hrNow());
  });

  it('Redis restarted empty under a running agent: probes resume within two intervals', async () => {
    const setup = await agentOnOwnRedis();
    await own!.restartEmpty();
    await expectHealed(setup, hrNow());
  });

  it('two agents with different rule sets (same prefix): both sets run, none is deleted', async () => {
    const world = await createTestEnv();
    env = world;
    const other = await startHelixSim();
    cleanups.push(() => other.close());
    const rulesFor = (probe: string, target: HelixSim) => {
      const dir = mkdtempSync(join(tmpdir(), `vigil-${probe}-`));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(
        join(dir, `${probe}.yaml`),
        `id: ${probe}-down
title: ${probe} is down
severity: high
ackSla: 10m
probe:
  kind: http
  name: ${probe}
  url: ${target.url}/api/v1/health
  every: 200ms
  timeout: 100ms
condition:
  kind: consecutive
  count: 3
`,
      );
      return world.config({
        rules: { dir, vars: {} },
        sources: [{ kind: 'probes', reassertEvery: '100ms' }],
      });
    };
    const first = world.agent(rulesFor('alpha', world.helix));
    const second = world.agent(rulesFor('beta', other));
    await first.start();
    await second.start();
    const started = hrNow();
    // Several re-assertion rounds of both agents: each keeps the other's scheduler.
    await world.helix.waitForRequests(5, (r) => r.at > started);
    await other.waitForRequests(5, (r) => r.at > started);
    const queue = new Queue('probes', { connection: world.redis, prefix: world.prefix });
    cleanups.push(() => queue.close());
    expect((await queue.getJobSchedulers()).map((s) => s.key).sort()).toEqual(['probe-alpha', 'probe-beta']);

    // The spec travels with its scheduler: with the second agent gone, the first runs its probe.
    await second.close();
    const alone = hrNow();
    await other.waitForRequests(3, (r) => r.at > alone);
    const failed = await queue.getFailed();
    expect(failed.map((j) => j.failedReason)).toEqual([]);
  });
});
