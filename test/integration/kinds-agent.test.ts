import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { event, rule } from '../support/kinds-world.js';
import { quietPeriod, until } from '../support/quiet.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';

let env: TestEnv | undefined;
let own: OwnRedis | undefined;
afterEach(async () => {
  await env?.cleanup();
  await own?.close();
  env = undefined;
  own = undefined;
});

const heartbeat = (after: string) =>
  rule('orchestrator-heartbeat', {
    match: { name: 'orchestrator.heartbeat' },
    condition: { kind: 'absence', after },
  });

function agentWith(world: TestEnv, after: string, redisUrl?: string): Agent {
  const config = world.config({
    rules: { dir: 'rules', tickEvery: '200ms' },
    ...(redisUrl ? { redis: { url: redisUrl, prefix: world.prefix } } : {}),
  });
  return world.agent(config, { rules: { rules: [heartbeat(after)], probes: [] } });
}

async function incidents(world: TestEnv) {
  const { rows } = await world.db.query(`SELECT * FROM ${world.schema}.vigil_incidents ORDER BY id`);
  return rows;
}

/** Heartbeats every 200 ms into the agent's events queue until stopped. */
function beating(queue: Queue): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await queue.add('batch', { events: [event('orchestrator.heartbeat', Date.now())] });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

describe('absence through whole agents', () => {
  it('fires from the tick for a heartbeat that never came, resolves when it comes, exactly once', async () => {
    env = await createTestEnv();
    const world = env;
    const agent = agentWith(world, '1s');
    await agent.start();
    await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200);
    expect((await incidents(world))[0]?.summary).toMatch(
      /^no orchestrator\.heartbeat for [\d.]+s \(expected within 1s\)$/,
    );
    const events = new Queue('events', { connection: world.redis, prefix: world.prefix });
    const stop = beating(events);
    try {
      await until('the incident resolved', async () => (await incidents(world))[0]?.state === 'resolved');
      await quietPeriod();
    } finally {
      await stop();
      await events.close();
    }
    expect((await incidents(world)).map((i) => i.state)).toEqual(['resolved']);
  });

  it('a Redis that comes back empty: the tick goes on and the never-seen heartbeat is watched again', async () => {
    own = await startOwnRedis();
    env = await createTestEnv();
    const world = env;
    const agent = agentWith(world, '2s', own.url);
    const events = new Queue('events', { connection: { url: own.url }, prefix: world.prefix });
    try {
      await agent.start();
      const stop = beating(events);
      await quietPeriod(2500);
      await stop();
      expect(await incidents(world)).toEqual([]);
      await own.restartEmpty();
      // No heartbeat after the restart: only the tick over a re-watched series can fire.
      await world.slack.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200, {
        timeoutMs: 20_000,
      });
      await quietPeriod();
      expect((await incidents(world)).map((i) => i.state)).toEqual(['firing']);
    } finally {
      await events.close();
    }
  });
});
