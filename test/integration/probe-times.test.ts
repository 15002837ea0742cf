import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthRequest } from '../../src/demo/helix-sim.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const EVERY = 1000;

/**
 * The incident's "since" and the planned time of the run that made `firstFailing`. A scheduler
 * plans runs on one grid (its first run plus whole intervals), so that run is the grid point
 * nearest to when the target answered it.
 */
async function sinceAndPlanned(world: TestEnv, firstFailing: HealthRequest) {
  await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
  const { rows } = await world.db.query<{ started_at: Date }>(
    `SELECT started_at FROM ${world.schema}.vigil_incidents`,
  );
  expect(rows).toHaveLength(1);
  const queue = new Queue('probes', { connection: world.redis, prefix: world.prefix });
  try {
    const scheduler = await queue.getJobScheduler('probe-helix-api-health');
    expect(scheduler?.every).toBe(EVERY);
    const next = scheduler!.next!;
    const planned = next - Math.round((next - firstFailing.at) / EVERY) * EVERY;
    return { since: rows[0]!.started_at.getTime(), planned };
  } finally {
    await queue.close();
  }
}

describe("an incident's since is its first failing observation's planned time", () => {
  it('when the target fails from the scheduler’s first run on', async () => {
    const world = await createTestEnv({ healthEvery: `${EVERY}ms` });
    env = world;
    world.helix.setHealthy(false);
    await world.agent().start();
    const [first] = await world.helix.waitForRequests(1);
    expect(first!.healthy).toBe(false);
    const { since, planned } = await sinceAndPlanned(world, first!);
    expect(new Date(since).toISOString()).toBe(new Date(planned).toISOString());
  });

  it('when the target starts failing at a later run', async () => {
    const world = await createTestEnv({ healthEvery: `${EVERY}ms` });
    env = world;
    await world.agent().start();
    await world.helix.waitForRequests(3, (r) => r.healthy);
    world.helix.setHealthy(false);
    const [firstFailing] = await world.helix.waitForRequests(1, (r) => !r.healthy);
    const { since, planned } = await sinceAndPlanned(world, firstFailing!);
    expect(new Date(since).toISOString()).toBe(new Date(planned).toISOString());
  });
});
