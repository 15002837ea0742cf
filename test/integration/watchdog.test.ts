import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { quietPeriod, until } from '../support/quiet.js';

let env: TestEnv | undefined;
let server: Server | undefined;
afterEach(async () => {
  await env?.cleanup();
  server?.close();
  env = server = undefined;
});

/** A dead-man's switch: counts the heartbeats it receives. */
async function deadMansSwitch(): Promise<{ url: string; beats: number[] }> {
  const beats: number[] = [];
  server = createServer((req, res) => {
    beats.push(Date.now());
    res.writeHead(200).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`, beats };
}

describe('self-trust: a stuck Vigil is noticed from outside', () => {
  it('the events worker stuck: the heartbeat stops and the canary’s age grows in /healthz and /metrics', async () => {
    env = await createTestEnv();
    const world = env;
    const dms = await deadMansSwitch();
    const agent = world.agent(
      world.config({
        canary: { every: '100ms', maxAge: '800ms' },
        heartbeat: { url: dms.url, every: '100ms', timeout: '1s' },
      }),
    );
    await agent.start();
    await until('three heartbeats', () => dms.beats.length >= 3);

    // Stuck: nothing takes batches off the events queue any more (every agent, as a global pause).
    const events = new Queue('events', { connection: world.redis, prefix: world.prefix });
    await events.pause();
    try {
      await until('the canary to go stale', () => agent.health.problems().canary !== undefined);
      const health = await fetch(`${agent.httpUrl}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { problems: Record<string, string> }).problems.canary).toMatch(
        /no canary has come through the pipeline for \ds/,
      );
      const beatsWhenStale = dms.beats.length;
      await quietPeriod(600);
      expect(dms.beats.length).toBe(beatsWhenStale);
      const metrics = await agent.metrics.render();
      const age = Number(/^vigil_canary_age_seconds (\S+)$/m.exec(metrics)?.[1]);
      expect(age).toBeGreaterThan(1);
      expect(agent.metrics.value('vigil_heartbeats_total', { outcome: 'withheld' })).toBeGreaterThan(0);
    } finally {
      await events.resume();
      await events.close();
    }
    // Unstuck: the canary comes back and so does the heartbeat.
    await until('the canary to come back', () => agent.health.problems().canary === undefined);
    const before = dms.beats.length;
    await until('a heartbeat after recovery', () => dms.beats.length > before);
  });
});
